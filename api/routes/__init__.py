"""One APIRouter per area: health, chat (OpenAI-compatible), ask, documents."""
