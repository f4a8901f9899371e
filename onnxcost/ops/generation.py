"""com.microsoft's text-generation loops (GreedySearch, Sampling, BeamSearch, WhisperBeamSearch), which
onnxruntime's transformers tools wrap around a decoder subgraph: output shapes from the batch and the
max_length, num_beams and num_return_sequences inputs when their values are known (constants, or given
with input_values). Their cost is the decoder's once per generated token with a growing cache, the token
count depending on when each sequence ends: not computed."""

from __future__ import annotations

from ..base import dtypes
from .core import FLOAT, GRAPH, INT, MS, NodeView, OpDef, Spec, Traits, UnknownShape

FAMILY = "generation"
NOTE = "runs its decoder subgraph once per generated token: the cost is not computed"


def _count(n: NodeView, slot: int, what: str) -> int:
    """A positive count held in a one-element input."""
    value = int(n.scalar(slot))
    if value < 1:
        raise n.fail(f"{what} = {value} must be positive")
    return value


def _vocab(n: NodeView) -> int:
    vocab = int(n.attr("vocab_size", -1))
    if vocab < 1:
        raise UnknownShape("the vocabulary size (attribute vocab_size is not set)")
    return vocab


def _greedy_shape(n: NodeView) -> list[Spec]:
    """sequences [batch, max_length] (int32, padded after the end token)."""
    return [((n.input_shape(0)[0], _count(n, 1, "max_length")), dtypes.INT32)]


def _prompt(n: NodeView) -> int:
    """The tokens a sequence starts with: the input ids; for Whisper (whose input is audio features), the
    decoder_input_ids when given, else the start token alone."""
    if n.op_type != "WhisperBeamSearch":
        return n.input_shape(0)[1]
    return n.input_shape(10)[1] if n.has_input(10) else 1


def _beam_shape(n: NodeView) -> list[Spec]:
    """sequences [batch, num_return_sequences, max_length]; their scores [batch, num_return_sequences]; the
    scores of each step [max_length - prompt length, batch, num_beams, vocab]; WhisperBeamSearch adds the
    cross-attention weights [batch, num_return, layer-heads, max_length, frames / 2] and the non-speech
    probabilities [batch]."""
    ids = n.input_shape(0)
    batch, max_length = ids[0], _count(n, 1, "max_length")
    beams, returned = _count(n, 3, "num_beams"), _count(n, 4, "num_return_sequences")
    out: list[Spec] = [((batch, returned, max_length), dtypes.INT32), ((batch, returned), dtypes.FLOAT)]
    try:
        steps = max_length - _prompt(n)
        out.append(((steps, batch, beams, _vocab(n)), dtypes.FLOAT))
    except UnknownShape:
        out.append((None, dtypes.FLOAT))
    if n.op_type == "WhisperBeamSearch":
        heads = n.input_shape(12)[0] if n.has_input(12) else None
        frames = ids[-1] // 2
        out += [(None if heads is None else (batch, returned, heads, max_length, frames), dtypes.FLOAT),
                ((batch,), dtypes.FLOAT)]
    return out


#: the attributes of the four ops in onnxruntime 1.32's schemas (no two disagree on a type)
SEARCH_ATTRS = {
    **dict.fromkeys(("decoder", "encoder", "init_decoder"), GRAPH),
    **dict.fromkeys(("temperature", "top_p", "filter_value", "presence_penalty"), FLOAT),
    **dict.fromkeys(("vocab_size", "pad_token_id", "eos_token_id", "min_tokens_to_keep", "no_repeat_ngram_size",
                     "custom", "model_type", "decoder_start_token_id", "decoder_output_cross_qk", "early_stopping",
                     "translate_token_id", "no_speech_token_id", "transcribe_token_id", "start_of_lm_token_id",
                     "no_timestamps_token_id", "beginning_timestamp_token_id"), INT)}
OPS: list[OpDef] = [
    OpDef(op, MS, FAMILY, shape=shape, cost=None, traits=Traits(), attr_types=SEARCH_ATTRS, note=NOTE)
    for op, shape in (("GreedySearch", _greedy_shape), ("Sampling", _greedy_shape), ("BeamSearch", _beam_shape),
                      ("WhisperBeamSearch", _beam_shape))
]
