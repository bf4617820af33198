"""The CPU backend: vLLM-CPU's attention, with long prefills routed to FlexPrefill and decodes over
long contexts to HCAM (`attention_runtime.routing`).

vLLM's CPU platform always picks `CPU_ATTN`, so the plugin re-registers that name to this class.
Per engine step the metadata builder decides each request's route. A step where every request is
dense runs vLLM's kernel exactly as before. Otherwise each routed request runs the sparse op over
the paged cache, and the dense requests run in vLLM's kernel as one smaller batch, joined by any
routed prefill whose FlexPrefill pattern came out too dense to be worth it in this layer.
Routed only: decoder layers attending to the whole context, without ALiBi, soft-capping or sink
tokens, on the kernels whose cache layout `paged` reads; anything else stays dense.
"""

import logging
import math
from dataclasses import dataclass, fields

import torch
from vllm import _custom_ops as ops
from vllm import envs
from vllm.v1.attention.backend import AttentionType
from vllm.v1.attention.backends.cpu_attn import (
    CPUAttentionBackend,
    CPUAttentionBackendImpl,
    CPUAttentionMetadata,
    CPUAttentionMetadataBuilder,
)

from attention_runtime import probe
from attention_runtime.backends import paged
from attention_runtime.params import kernel_name
from attention_runtime.routing import CONFIG_KEY, AttentionSettings, route

log = logging.getLogger("sleuth.attention")


@dataclass
class RoutedMetadata(CPUAttentionMetadata):
    """vLLM's metadata for the whole step, plus each request's route."""

    routes: tuple[str, ...] = ()


class SleuthCPUAttentionMetadataBuilder(CPUAttentionMetadataBuilder):
    def __init__(self, kv_cache_spec, layer_names, vllm_config, device) -> None:
        super().__init__(kv_cache_spec, layer_names, vllm_config, device)
        self.settings = AttentionSettings.from_dict(vllm_config.additional_config.get(CONFIG_KEY))
        self.kernel = kernel_name(self.isa, vllm_config.model_config.dtype)
        prefill, decode = self.settings.thresholds(self.kernel)
        self.shortest = min(prefill, decode)  # no request of a shorter sequence is routed
        taken = ([_when("FlexPrefill", prefill)] if self.settings.prefill else []) + (
            [_when("HCAM", decode)] if self.settings.decode else [])
        if taken:  # at warning level, which vLLM's worker process writes (to the engine log under the CLI)
            measured = self.settings.measured
            where = "this machine" if measured and measured.kernel == self.kernel else "sleuth's table"
            log.warning("%s attention over vLLM's %s kernel: %s (break-evens: %s)", self.settings.mode, self.kernel,
                        ", ".join(taken), where)

    def build(self, common_prefix_len, common_attn_metadata, fast_build: bool = False):
        meta = super().build(common_prefix_len, common_attn_metadata, fast_build)
        s = self.settings
        if (s.mode == "dense" or self.window_size != -1 or meta.causal is not True or meta.dynamic_causal is not None
                or self.is_encoder_only_attention or meta.max_seq_len < self.shortest):
            return meta
        starts, seq_lens = meta.query_start_loc.tolist(), meta.seq_lens.tolist()
        routes = tuple(route(s, starts[i + 1] - starts[i], seq_lens[i], self.kernel) for i in range(len(seq_lens)))
        if all(r == "dense" for r in routes):
            return meta
        return RoutedMetadata(**{f.name: getattr(meta, f.name) for f in fields(CPUAttentionMetadata)}, routes=routes)


def _when(path: str, threshold: float) -> str:
    return f"{path} never (slower than this kernel where measured)" if math.isinf(threshold) else (
        f"{path} from {threshold:,} tokens")


class SleuthCPUAttentionImpl(CPUAttentionBackendImpl):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from vllm.config import get_current_vllm_config

        self.settings = AttentionSettings.from_dict(get_current_vllm_config().additional_config.get(CONFIG_KEY))
        self.routable = (self.settings.mode != "dense" and self.attn_type == AttentionType.DECODER
                         and self.sliding_window == -1 and self.alibi_slopes is None and not self.logits_soft_cap
                         and self.sinks is None and not self.is_fp8_kv_cache)
        decode = self.routable and self.settings.decode
        self.chunk_sums = paged.ChunkSums(self.settings.hcam.chunk_size) if decode else None

    def do_kv_cache_update(self, layer, key, value, kv_cache, slot_mapping) -> None:
        super().do_kv_cache_update(layer, key, value, kv_cache, slot_mapping)
        if self.chunk_sums is None:
            return
        if self.chunk_sums.sums is None:  # the first write decides: is HCAM ever taken over this kernel?
            if math.isinf(self.settings.thresholds(kernel_name(layer.isa, kv_cache.dtype))[1]):
                self.chunk_sums = None  # never: nothing to keep
                return
        self.chunk_sums.add(key, slot_mapping, kv_cache.shape[0], kv_cache.shape[2])

    def forward(self, layer, query, key, value, kv_cache, attn_metadata, output, output_scale=None,
                output_block_scale=None):
        probe.mark("SleuthCPUAttentionBackend")
        if not (isinstance(attn_metadata, RoutedMetadata) and self.routable and self._layout_known(layer)):
            return super().forward(layer, query, key, value, kv_cache, attn_metadata, output, output_scale,
                                   output_block_scale)
        meta, bs = attn_metadata, kv_cache.shape[2]
        cache = paged.PagedKV(kv_cache, layer.isa)
        starts, seq_lens = meta.query_start_loc.tolist(), meta.seq_lens.tolist()
        dense = []
        for i, how in enumerate(meta.routes):
            rows, length = slice(starts[i], starts[i + 1]), seq_lens[i]
            blocks = meta.block_table[i, : -(-length // bs)]
            if how == "hcam":
                out, sparse = paged.hcam_paged(query[rows][0], cache, blocks, length, self.chunk_sums,
                                               self.settings.hcam, self.scale)
                output[rows] = out[None].to(output.dtype)
                probe.record(route=how, context=length, sparse=sparse)
            elif how == "flexprefill":
                out, kept = paged.flexprefill_paged(query[rows], cache, blocks, length, self.settings.flexprefill,
                                                    self.scale)
                probe.record(route=how, tokens=rows.stop - rows.start, context=length, density=round(kept, 4),
                             sparse=out is not None)
                if out is None:
                    dense.append(i)
                else:
                    output[rows] = out.to(output.dtype)
            else:
                dense.append(i)
        if dense:
            self._dense(layer, query, kv_cache, meta, starts, dense, output)
        return output

    def _dense(self, layer, query, kv_cache, meta: CPUAttentionMetadata, starts: list[int], requests: list[int],
               output) -> None:
        """vLLM's kernel for `requests` alone: their own batch, with its own schedule."""
        rows = torch.cat([torch.arange(starts[i], starts[i + 1]) for i in requests])
        index = torch.tensor(requests)
        lengths = torch.tensor([starts[i + 1] - starts[i] for i in requests])
        query_start_loc = torch.nn.functional.pad(lengths.cumsum(0), (1, 0)).to(meta.query_start_loc.dtype)
        seq_lens = meta.seq_lens[index]
        schedule = ops.cpu_attn_get_scheduler_metadata(
            num_reqs=len(requests), num_heads=self.num_heads, num_kv_heads=self.num_kv_heads, head_dim=self.head_size,
            seq_lens=seq_lens, dtype=query.dtype, query_start_loc=query_start_loc, causal=True,
            sliding_window_size=-1, isa=layer.isa, enable_kv_split=envs.VLLM_CPU_ATTN_SPLIT_KV, dynamic_causal=None,
            kv_cache_dtype=self.kv_cache_dtype)
        sub = CPUAttentionMetadata(
            num_actual_tokens=len(rows), max_query_len=int(lengths.max()), query_start_loc=query_start_loc,
            max_seq_len=int(seq_lens.max()), seq_lens=seq_lens, block_table=meta.block_table[index],
            slot_mapping=meta.slot_mapping, scheduler_metadata=schedule, causal=True)
        part = torch.empty_like(output[rows])
        super().forward(layer, query[rows], None, None, kv_cache, sub, part)
        output[rows] = part

    def _layout_known(self, layer) -> bool:
        if layer.isa in paged.LAYOUT_ISAS:
            return True
        log.warning("sleuth attention: the %s CPU kernel's cache layout is not supported; this layer stays dense",
                    layer.isa)
        self.routable = False
        return False


class SleuthCPUAttentionBackend(CPUAttentionBackend):
    @staticmethod
    def get_name() -> str:
        return "CPU_ATTN"  # the attention layer looks the backend up by this enum name

    @staticmethod
    def get_impl_cls() -> type[SleuthCPUAttentionImpl]:
        return SleuthCPUAttentionImpl

    @staticmethod
    def get_builder_cls() -> type[SleuthCPUAttentionMetadataBuilder]:
        return SleuthCPUAttentionMetadataBuilder
