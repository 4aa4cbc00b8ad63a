"""The web server: a chat page and an HTTP API (OpenAI-compatible) over `rag.pipeline.Pipeline`.

`api.main.create_app(settings)` builds the FastAPI app; `rag serve` runs it under uvicorn.
Nothing here answers questions itself: every answer comes from `Pipeline.ask`.
"""
