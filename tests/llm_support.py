"""For the tests against a real model: a small biology document in sections, and a spy on a
backend's chat that records every request and answer and can act while an answer streams."""
from generator.sources.document import HEADING, PARAGRAPH, Block, Document


PHOTOSYNTHESIS = [
    "Photosynthesis converts light energy into chemical energy.",
    "It takes place in the chloroplasts, which contain the green pigment chlorophyll.",
    "The light reactions split water and release oxygen.",
    "The Calvin cycle fixes carbon dioxide into sugars using ATP and NADPH.",
]

SECTIONS = {
    "Photosynthesis": PHOTOSYNTHESIS,
    "Cellular respiration": [
        "Cellular respiration releases the energy stored in glucose.",
        "Glycolysis splits glucose into two molecules of pyruvate in the cytoplasm.",
        "The citric acid cycle takes place in the mitochondrial matrix.",
    ],
    "Osmosis": [
        "Osmosis is the diffusion of water across a semipermeable membrane.",
        "Water moves from a region of low solute concentration to one of high concentration.",
    ],
    "Enzymes": [
        "Enzymes are proteins that speed up chemical reactions by lowering the activation energy.",
        "Each enzyme binds its substrate at the active site.",
    ],
}


def document(sections=None, name="biology.md"):
    blocks = []
    for heading, sentences in (sections or {"Photosynthesis": PHOTOSYNTHESIS}).items():
        blocks.append(Block(HEADING, heading, level=1))
        blocks.append(Block(PARAGRAPH, " ".join(sentences)))
    return Document(name, blocks)


class Spy:
    """Wraps a backend's chat: records every request and raw answer, and can act mid-stream."""

    def __init__(self, backend):
        self.backend = backend
        self.calls = []  # (request, result or exception)
        self.on_piece = None  # called with (call number from 1, pieces so far)
        self._chat = backend.chat
        backend.chat = self.chat

    def chat(self, request, cancel=None, on_token=None, on_text=None):
        number = len(self.calls) + 1

        def tokens(n):
            if self.on_piece is not None:
                self.on_piece(number, n)
            if on_token is not None:
                on_token(n)

        try:
            result = self._chat(request, cancel, tokens, on_text)
        except BaseException as e:
            self.calls.append((request, e))
            raise
        self.calls.append((request, result))
        return result
