"""ONNX Runtime as a benchmark peer: export a PyTorch module to ONNX and open it in ONNX Runtime, the way a user who
picks ONNX Runtime for fast CPU inference of a BERT does it. Shared by encoder_ort.py and adapters_ort.py.

Two variants of every model are timed:

    ort      torch.onnx.export (TorchScript exporter, opset 17, dynamic batch and sequence axes), run at
             GraphOptimizationLevel.ORT_ENABLE_ALL
    ort-opt  the same file through onnxruntime.transformers.optimizer.optimize_model(model_type="bert") first (fused
             Attention, SkipLayerNormalization, EmbedLayerNormalization, BiasGelu kernels), then ORT_ENABLE_ALL

Sessions use intra_op_num_threads = the thread count asked for, inter_op_num_threads = 1 and sequential execution,
the CPU execution provider, and ONNX Runtime's defaults otherwise (its worker threads spin briefly after each run),
except that all sessions of the process share one CPU arena registered with the environment
(session.use_env_allocators, ONNX Runtime's option for processes holding many sessions): each session's own arena
would keep its largest pass's activations, ~200 MB after a 32 × 128 pass, and the adapters peer holds ~30 sessions.
Timings are the same either way (checked at 1 × 16 and 32 × 128, 1 and 2 threads).

Importing this module raises ImportError when onnxruntime or onnx is missing; the peers report that as one line.
"""

import collections
import os
import warnings

import numpy as np
import onnx  # noqa: F401  (the optimizer needs it; importing it here makes a missing onnx an ImportError up front)
import onnxruntime
import torch
from onnxruntime.transformers.optimizer import optimize_model

VARIANTS = ("ort", "ort-opt")
INPUT_NAMES = ["input_ids", "attention_mask", "token_type_ids"]
OPSET = 17  # the newest opset the TorchScript exporter covers well; LayerNormalization is a single op from 17 on
INSTALL_HINT = "pip install onnxruntime onnx"


def versions():
    return f"onnxruntime {onnxruntime.__version__}, onnx {onnx.__version__}, torch {torch.__version__}"


class Output(torch.nn.Module):
    """`model` called with the three BERT inputs, reduced to one output tensor by `pick` (of the model's output)."""

    def __init__(self, model, pick):
        super().__init__()
        self.model = model  # a submodule, so that its weights are exported as the graph's initializers
        self.pick = pick

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.pick(self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids))


def export(module, example, path, dynamic_batch=True, dynamic_length=True):
    """Writes `module` (called with input_ids, attention_mask, token_type_ids; returning one tensor) to `path`.
    `example` is a (batch, length) LongTensor of token ids; the axes not marked dynamic keep its sizes."""
    module.eval()  # export restores the wrapper's training flag afterwards, and a fresh wrapper is in training mode
    axes = {}
    if dynamic_batch:
        axes[0] = "batch"
    if dynamic_length:
        axes[1] = "sequence"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice and tracer warnings
        torch.onnx.export(
            module,
            (example, torch.ones_like(example), torch.zeros_like(example)),
            path,
            dynamo=False,
            opset_version=OPSET,
            input_names=INPUT_NAMES,
            output_names=["output"],
            dynamic_axes={name: axes for name in INPUT_NAMES + ["output"]} if axes else None,
        )


def optimize(path, optimized_path, num_heads, hidden_size):
    """Runs ONNX Runtime's transformer optimizer on `path`; returns the fused operators it made (name → count)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = optimize_model(path, model_type="bert", num_heads=num_heads, hidden_size=hidden_size)
    model.save_model_to_file(optimized_path)
    return {name: count for name, count in model.get_fused_operator_statistics().items() if count}


_shared_arena = []


def session(path, threads):
    if not _shared_arena:
        memory = onnxruntime.OrtMemoryInfo(
            "Cpu", onnxruntime.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, onnxruntime.OrtMemType.DEFAULT
        )
        onnxruntime.create_and_register_allocator(memory, None)
        _shared_arena.append(memory)
    options = onnxruntime.SessionOptions()
    options.add_session_config_entry("session.use_env_allocators", "1")
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # errors only: no notes about nodes left to the CPU provider
    return onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def feeds(ids):
    """The inputs of one run: token ids (numpy int64, (batch, length)), an all-ones mask, all-zero token types."""
    return {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}


def op_counts(path, most_common=8):
    model = onnx.load(path)
    return dict(collections.Counter(node.op_type for node in model.graph.node).most_common(most_common))


def brief(error):
    """An exception in one short line: ONNX Runtime's messages repeat a source location chain before the reason, which
    comes after the last " : "."""
    reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {reason.split(' : ')[-1][:160]}"


def max_difference(ours, reference):
    """max |ours − reference| and max |reference| over every value."""
    ours, reference = np.asarray(ours, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    if ours.shape != reference.shape:
        raise ValueError(f"output shape {ours.shape}, PyTorch's {reference.shape}")
    return float(np.abs(ours - reference).max()), float(np.abs(reference).max())


def within_tolerance(difference, scale):
    """ONNX Runtime and PyTorch run the same float32 graph; fused kernels reorder sums, nothing more."""
    return difference <= 1e-3 * max(1.0, scale)


class Sessions:
    """One InferenceSession per (model file, thread count), opened on first use and kept: opening one optimizes the
    graph and prepacks the weights, far longer than a timed run."""

    def __init__(self):
        self.open = {}

    def get(self, path, threads):
        key = (os.path.abspath(path), threads)
        if key not in self.open:
            self.open[key] = session(path, threads)
        return self.open[key]

    def close(self, path):
        """Drops the sessions of a file that will not be timed (their weights are a model's worth of memory each)."""
        for key in [key for key in self.open if key[0] == os.path.abspath(path)]:
            del self.open[key]
