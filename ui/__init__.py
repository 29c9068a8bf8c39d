"""The add-on's Qt dialogs: thin Qt over generator/ (imported only when an action fires)."""
