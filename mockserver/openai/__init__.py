"""OpenAI-compatible endpoints in three dialects: openai, vllm, siliconflow.

Written from the OpenAI spec and vLLM's observed behaviour, independently of `sdk/`: the mock
must be an honest second implementation, or contract tests would prove nothing.
"""
