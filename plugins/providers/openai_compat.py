"""Built-in OpenAI-compatible cloud providers: openai, siliconflow, deepseek, dashscope, and
``openai-compatible`` for any other server (pass ``base_url``).

Each preset is a tiny subclass of :class:`hookwire.llm.OpenAICompatibleProvider` that fixes the base
URL, the key's environment variable and how thinking is switched:

=================  ==================================================  ===================
name               base URL                                            key
=================  ==================================================  ===================
openai             https://api.openai.com/v1                           OPENAI_API_KEY
siliconflow        https://api.siliconflow.cn/v1                       SILICONFLOW_API_KEY
deepseek           https://api.deepseek.com/v1                         DEEPSEEK_API_KEY
dashscope          https://dashscope.aliyuncs.com/compatible-mode/v1   DASHSCOPE_API_KEY
openai-compatible  (base_url required)                                 OPENAI_API_KEY (optional)
=================  ==================================================  ===================

Thinking: siliconflow, dashscope and openai-compatible send top-level ``enable_thinking`` and
``thinking_budget``; openai and deepseek (where the model decides: deepseek-reasoner) have no
switch.
"(none)" means a ``thinking=`` argument is refused with a clear error instead of being silently
dropped (send the provider's own field with ``extra_body=``).
"""

from __future__ import annotations

from hookwire.llm import OpenAICompatibleProvider
from hookwire.llm.openai_compatible import ThinkingStyle
from hookwire.plugin import ProviderRegister, hookimpl


class OpenAIProvider(OpenAICompatibleProvider):
    name = "openai"
    default_base_url = "https://api.openai.com/v1"
    env_var = "OPENAI_API_KEY"
    key_required = True
    default_thinking_style: ThinkingStyle = None


class SiliconFlowProvider(OpenAICompatibleProvider):
    name = "siliconflow"
    default_base_url = "https://api.siliconflow.cn/v1"
    env_var = "SILICONFLOW_API_KEY"
    key_required = True
    default_thinking_style: ThinkingStyle = "enable_thinking"


class DeepSeekProvider(OpenAICompatibleProvider):
    name = "deepseek"
    default_base_url = "https://api.deepseek.com/v1"
    env_var = "DEEPSEEK_API_KEY"
    key_required = True
    default_thinking_style: ThinkingStyle = None  # deepseek-reasoner thinks; deepseek-chat not


class DashScopeProvider(OpenAICompatibleProvider):
    name = "dashscope"
    default_base_url = "https://dashscope.aliyuncs.com/compatible-mode/v1"
    env_var = "DASHSCOPE_API_KEY"
    key_required = True
    default_thinking_style: ThinkingStyle = "enable_thinking"


PRESETS: dict[str, type[OpenAICompatibleProvider]] = {
    "openai": OpenAIProvider,
    "siliconflow": SiliconFlowProvider,
    "deepseek": DeepSeekProvider,
    "dashscope": DashScopeProvider,
    "openai-compatible": OpenAICompatibleProvider,
}


@hookimpl(trylast=True)
def hookwire_register_providers(register: ProviderRegister) -> None:
    for name, cls in PRESETS.items():
        register(name, cls)
