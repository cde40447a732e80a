"""A gradio chat front end for the vLLM server's OpenAI-compatible API."""

import os
from pathlib import Path

import gradio as gr
from openai import OpenAI

client = OpenAI(base_url=os.environ["OPENAI_BASE_URL"], api_key="unused")
MODEL = os.environ["MODEL_NAME"]
SYSTEM = Path(os.environ.get("SYSTEM_PROMPT_FILE", "/dev/null")).read_text().strip()


def reply(message, history):
    messages = [{"role": "system", "content": SYSTEM}] if SYSTEM else []
    messages += history + [{"role": "user", "content": message}]
    stream = client.chat.completions.create(model=MODEL, messages=messages, stream=True)
    text = ""
    for chunk in stream:
        text += chunk.choices[0].delta.content or ""
        yield text


if __name__ == "__main__":
    gr.ChatInterface(reply, type="messages").launch(server_name="0.0.0.0", server_port=7860)
