"""sleuth's settings, one pydantic-settings model.

Precedence: explicit values (CLI flags, keyword arguments) > `SLEUTH_*` environment variables >
the TOML config file (`$SLEUTH_CONFIG`, else `config.toml` in the XDG config dir) > defaults.
"""

import os
import re
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from agents.errors import SettingsError
from attention_runtime import CATALOGUE, DEFAULT, CatalogueModel, EngineConfig, installed_build, model_dir
from attention_runtime.engine import native_dtype
from attention_runtime.routing import AttentionSettings
from memory import Memory
from tools import FetchLimits
from tools.netguard import AddressPolicy


PROMPT_TOKENS = 1024  # what a reading step's prompt and answer take besides its evidence
FIT_MARGIN = 1.05  # how far a prompt's passages may run past their estimate (`agents.prompts.model_tokens`)


def config_path() -> Path:
    """The config file in use: `$SLEUTH_CONFIG`, else `<XDG config dir>/sleuth/config.toml`."""
    explicit = os.environ.get("SLEUTH_CONFIG")
    return Path(explicit) if explicit else platformdirs.user_config_path("sleuth") / "config.toml"


def _as_given(name: str, value: object, flag: str) -> str:
    """A setting's value as the user gave it: the flag, else the environment variable if it is set
    (it wins over the file), else the config file's line."""
    variable = f"SLEUTH_{name.upper()}"
    if flag:
        return f"{flag} {value}"
    if any(key.upper() == variable for key in os.environ):
        return f"{variable}={value}"
    return f"{name} = {value} in {config_path()}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SLEUTH_", extra="forbid", validate_default=True)

    data_dir: Path = Field(default_factory=lambda: platformdirs.user_data_path("sleuth"))
    search_backend: Literal["auto", "duckduckgo", "local"] = "auto"
    max_results: int = Field(10, ge=1, le=100)
    search_timeout: float = Field(10.0, gt=0)
    search_retries: int = Field(2, ge=0, le=10)
    allow_private: bool = False
    respect_robots: bool = False
    fetch_concurrency: int = Field(32, ge=1, le=1024)
    fetch_per_host: int = Field(4, ge=1, le=256)
    connect_timeout: float = Field(5.0, gt=0)
    read_timeout: float = Field(10.0, gt=0)
    fetch_timeout: float = Field(30.0, gt=0)
    max_page_bytes: int = Field(5_000_000, ge=1024)
    max_document_bytes: int = Field(5_000_000, ge=1024)  # per document added to the local corpus or memory
    chunk_tokens: int = Field(200, ge=20, le=4000)
    max_chunks_per_page: int = Field(256, ge=1)
    freshness_hours: float = Field(24.0, ge=0)
    context_tokens: int = Field(500, ge=100)  # `--context`: the evidence a reading step gives the model (see max_context)
    model: str = DEFAULT  # a catalogue name (`sleuth model list`), a checkpoint folder or a Hugging Face id
    llm_url: str | None = None  # an OpenAI-compatible server to use instead of the in-process engine
    llm_timeout: float = Field(300.0, gt=0)  # seconds one request to an LLM server may take, its queue included
    serve_url: str = "http://127.0.0.1:8000/v1"  # where `sleuth serve` listens by default; used when it serves `model`
    max_model_len: int = Field(32768, ge=256)
    kv_cache_gb: float | None = Field(None, gt=0)  # None: 1 GiB in bfloat16, 2 GiB in float32
    # Sparse attention for long contexts in the local engine: FlexPrefill for prefills of at least
    # `sparse_prefill_from` tokens, HCAM for decodes over at least `sparse_decode_from`. None: from where
    # each was measured to beat vLLM's kernel on this machine (`attention_runtime.calibration`: measured
    # once, kept in sleuth's cache folder).
    attention: Literal["dense", "flexprefill", "hcam", "sparse"] = "dense"
    sparse_prefill_from: int | None = Field(None, ge=1)
    sparse_decode_from: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _evidence_fits(self) -> "Settings":
        if self.context_tokens > self.max_context and "context_tokens" not in self.model_fields_set:
            self.context_tokens = self.max_context  # the default budget shrinks with a shorter context
        elif self.context_tokens > self.max_context:
            raise ValueError(f"context_tokens {self.context_tokens} does not fit a context of {self.max_model_len:,} tokens "
                             f"beside the prompt and the answer; use at most {self.max_context} (or raise max_model_len)")
        return self

    @property
    def max_context(self) -> int:
        """The largest evidence budget, and the most tokens a reading prompt's passages may take:
        `max_model_len` less what the instructions, example turns, question, findings and answer
        take (about 1,000), less the error of the estimate of the passages' tokens
        (`agents.prompts.model_tokens`). Memory counts tokens for any model and under the model's
        tokenizer (1.12 times as many on the bench corpus), so at the largest budgets the passages
        that would not fit the context are left out of the prompt, the worst pages first."""
        return max(100, int((self.max_model_len - PROMPT_TOKENS) / FIT_MARGIN))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=config_path()))

    @classmethod
    def load(cls, **overrides: object) -> "Settings":
        """Settings from all sources; `overrides` (flags) whose value is None are left to the others."""
        given = {k: v for k, v in overrides.items() if v is not None}
        try:
            return cls(**given)
        except ValidationError as e:
            err = e.errors()[0]
            if not err["loc"]:  # the one check across settings (`_evidence_fits`) says what to do itself
                flag = "context_tokens" in given
                said = re.sub(r"^context_tokens (\d+)", lambda m: _as_given("context_tokens", m[1], "--context" if flag else ""),
                              err["msg"].removeprefix("Value error, "))
                raise SettingsError(said + ".", from_flag=flag) from None
            where = ".".join(str(p) for p in err["loc"])
            raise SettingsError(f"Invalid setting {where}: {err['msg']}.", from_flag=err["loc"][0] in given) from None
        except (OSError, ValueError) as e:  # an unreadable or malformed config file
            raise SettingsError(f"The config file {config_path()} cannot be used: {e}.") from None

    @property
    def corpus_path(self) -> Path:
        return self.data_dir / "corpus.db"

    @property
    def memory_path(self) -> Path:
        return self.data_dir / "memory.db"

    def open_memory(self) -> Memory:
        return Memory(self.memory_path, target_tokens=self.chunk_tokens, max_chunks_per_page=self.max_chunks_per_page)

    @property
    def catalogue_model(self) -> CatalogueModel | None:
        """The catalogue entry `model` names, or None for a folder or a Hugging Face id."""
        return CATALOGUE.get(self.model)

    @property
    def model_dir(self) -> Path | None:
        """Where a catalogue model's converted checkpoint lives (None for other models)."""
        return model_dir(self.data_dir, self.model) if self.catalogue_model else None

    def engine_config(self, model_path: str | None = None) -> EngineConfig:
        """The engine for these settings. With sparse attention on a CPU, the thresholds left open are
        this machine's (measured on first use: `attention_runtime.calibration`)."""
        attention = AttentionSettings(mode=self.attention, prefill_from=self.sparse_prefill_from,
                                      decode_from=self.sparse_decode_from)
        path = model_path or (str(self.model_dir) if self.model_dir else self.model)
        if attention.mode != "dense" and installed_build() == "cpu":
            from attention_runtime.calibration import calibrated

            attention = calibrated(attention, path, native_dtype("cpu"), self.max_model_len)
        return EngineConfig(model=path, max_model_len=self.max_model_len,
                            kv_cache_bytes=int(self.kv_cache_gb * (1 << 30)) if self.kv_cache_gb else None,
                            attention=attention)

    def fetch_limits(self) -> FetchLimits:
        return FetchLimits(
            max_connections=self.fetch_concurrency,
            per_host=self.fetch_per_host,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            total_timeout=self.fetch_timeout,
            max_bytes=self.max_page_bytes,
            respect_robots=self.respect_robots,
        )

    def address_policy(self) -> AddressPolicy:
        return AddressPolicy(allow_private=self.allow_private)
