"""Render a real /photo result, exactly as the loopback Discord holds it, to a PNG for the README.

    python docs/render_result.py --out docs/result.png --html docs/result.html

It starts the loopback Discord and Pexels of the test suite, runs the real bot in-process, runs
`/photo sunset over the sea` as a user, presses ▶ once, and draws the stored message (embed, buttons)
as a Discord dark-theme channel message, screenshotted with headless Chromium.

There is no internet, so the photo itself cannot be loaded: a locally drawn sunset stands in for it.
Everything else (texts, links, colour, counter, buttons and their states) is what the bot sent.

Needs Debian's Chromium and fonts (not installed by this script):
    apt-get update && apt-get install -y --no-install-recommends chromium fonts-noto-color-emoji fonts-dejavu-core
"""

from __future__ import annotations

import argparse
import asyncio
import html
import re
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
QUERY = "sunset over the sea"
USER_NAME = "ana"
BOT_NAME = "PexBot"
CHROMIUM = "/usr/bin/chromium"
INSTALL_HINT = (
    "apt-get update && apt-get install -y --no-install-recommends chromium fonts-noto-color-emoji fonts-dejavu-core"
)
# Discord's default avatar colours (index 0-5).
DEFAULT_AVATAR_COLOURS = ("#5865F2", "#757E8A", "#3BA55C", "#FAA61A", "#ED4245", "#EB459F")
# Discord's button styles: primary, secondary, success, danger, link.
BUTTON_CLASSES = {1: "primary", 2: "secondary", 3: "success", 4: "danger", 5: "link"}


# ---- capturing the real message ------------------------------------------------------------------------------
async def capture_message(bot_name: str) -> dict[str, Any]:
    """Run the bot against the loopback servers, search, press ▶ once; the message as Discord holds it."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from bot.config import load_settings
    from tests.fakes.discord import FakeDiscord
    from tests.fakes.pexels import FakePexels
    from tests.harness import bot_environment, make_user, running_bot

    async with FakeDiscord(bot_name=bot_name) as discord, FakePexels() as pexels:
        settings = load_settings(bot_environment(discord, pexels), env_file=None)
        async with running_bot(settings, discord):
            user = make_user(1, USER_NAME)
            search = await discord.slash("photo", {"query": QUERY}, user=user)
            await search.wait_done(timeout=15)
            live = [m for m in search.messages if not m.deleted and not m.ephemeral]
            if not live:
                raise SystemExit(f"/photo produced no public message:\n{search.describe()}")
            message_id = live[0].id
            press = await discord.click(message_id, "▶", user=user)
            await press.wait_done(timeout=15)
            message = discord.messages[message_id]
            if message.deleted or message.loading:
                raise SystemExit(f"the result message is gone or still loading:\n{press.describe()}")
            return message.to_payload()


# ---- markdown (the little the bot uses) ----------------------------------------------------------------------
_EMOJI = re.compile(
    "([\u2190-\u21ff\u2300-\u23ff\u25b6\u25c0\u2600-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff]\ufe0f?)",
)
_INLINE = re.compile(
    r"\\(?P<escaped>[^\w\s])"
    r"|\[(?P<label>(?:\\.|[^\]\\])+)\]\((?P<url>https?://[^)\s]+)\)"
    r"|\*\*(?P<bold>.+?)\*\*"
)


def text_html(text: str) -> str:
    """Escaped text, with emoji drawn from the colour emoji font (as Discord draws them as images)."""
    parts = _EMOJI.split(text)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(f'<span class="emoji">{part.rstrip(chr(0xFE0F))}\ufe0f</span>')
        elif part:
            out.append(html.escape(part))
    return "".join(out)


def markdown_html(source: str) -> str:
    """[text](url), **bold**, backslash escapes and newlines, as Discord renders them in an embed description."""
    lines = []
    for line in source.split("\n"):
        out, pos = [], 0
        for match in _INLINE.finditer(line):
            out.append(text_html(line[pos : match.start()]))
            if match["escaped"]:
                out.append(text_html(match["escaped"]))
            elif match["label"]:
                url = html.escape(match["url"], quote=True)
                out.append(f'<a href="{url}">{markdown_html(match["label"])}</a>')
            else:
                out.append(f"<strong>{markdown_html(match['bold'])}</strong>")
            pos = match.end()
        out.append(text_html(line[pos:]))
        lines.append("".join(out))
    return "<br>".join(lines)


# ---- pictures drawn locally -----------------------------------------------------------------------------------
def stand_in_photo() -> str:
    """An SVG sunset over the sea (940×650, the shape of Pexels' `large` size) to stand in for the photo."""
    streaks = []
    for k in range(26):
        y = 392 + k * 10 + (k * k) // 6
        half = 40 + k * 9 + (k * 37) % 23
        for shift, scale in ((0, 1.0), ((k * 53) % 70 - 35, 0.45)):
            width = max(8, int(half * scale))
            x = 470 + shift - width // 2
            streaks.append(
                f'<rect x="{x}" y="{y}" width="{width}" height="{2 + k // 6}" rx="1.5" '
                f'fill="url(#glint)" opacity="{max(0.15, 0.95 - k * 0.03):.2f}"/>'
            )
    waves = "".join(
        f'<path d="M0 {y} Q 117 {y - 3} 235 {y} T 470 {y} T 705 {y} T 940 {y}" stroke="#2a1f4a" '
        f'stroke-width="{1 + k // 3}" fill="none" opacity="0.35"/>'
        for k, y in enumerate(range(420, 650, 26))
    )
    return f"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 940 650" width="940" height="650">
  <defs>
    <linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#1d1b4b"/>
      <stop offset="0.35" stop-color="#5a2d6e"/>
      <stop offset="0.62" stop-color="#c2456a"/>
      <stop offset="0.82" stop-color="#f28a4b"/>
      <stop offset="1" stop-color="#ffc46b"/>
    </linearGradient>
    <linearGradient id="sea" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#8a3f67"/>
      <stop offset="0.25" stop-color="#4a2c5e"/>
      <stop offset="1" stop-color="#120f2e"/>
    </linearGradient>
    <radialGradient id="glow" cx="0.5" cy="0.5" r="0.5">
      <stop offset="0" stop-color="#fff3c4" stop-opacity="0.95"/>
      <stop offset="0.3" stop-color="#ffb35c" stop-opacity="0.55"/>
      <stop offset="1" stop-color="#ff7a45" stop-opacity="0"/>
    </radialGradient>
    <linearGradient id="sun" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#fff6d6"/>
      <stop offset="1" stop-color="#ffb347"/>
    </linearGradient>
    <linearGradient id="glint" x1="0" y1="0" x2="1" y2="0">
      <stop offset="0" stop-color="#ffb35c" stop-opacity="0"/>
      <stop offset="0.5" stop-color="#ffe2a0"/>
      <stop offset="1" stop-color="#ffb35c" stop-opacity="0"/>
    </linearGradient>
    <filter id="soft" x="-20%" y="-200%" width="140%" height="500%"><feGaussianBlur stdDeviation="2.5"/></filter>
  </defs>
  <rect width="940" height="390" fill="url(#sky)"/>
  <ellipse cx="470" cy="375" rx="330" ry="210" fill="url(#glow)"/>
  <g fill="#f6a07a" opacity="0.6" filter="url(#soft)">
    <ellipse cx="190" cy="170" rx="150" ry="9"/><ellipse cx="250" cy="185" rx="110" ry="6"/>
    <ellipse cx="720" cy="130" rx="170" ry="8"/><ellipse cx="660" cy="148" rx="90" ry="5"/>
    <ellipse cx="820" cy="250" rx="120" ry="6"/><ellipse cx="120" cy="270" rx="100" ry="5"/>
  </g>
  <circle cx="470" cy="372" r="62" fill="url(#sun)"/>
  <rect y="388" width="940" height="262" fill="url(#sea)"/>
  <rect y="386" width="940" height="4" fill="#ffcf8a" opacity="0.55"/>
  {waves}
  {"".join(streaks)}
</svg>"""


def default_avatar(colour: str) -> str:
    """Discord's default avatar: the little mascot face on a coloured disc."""
    return f"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40">
  <circle cx="20" cy="20" r="20" fill="{colour}"/>
  <path fill="#fff" d="M27.6 13.4a18 18 0 0 0-4.5-1.4l-.6 1.2a17 17 0 0 0-5 0l-.6-1.2a18 18 0 0 0-4.5 1.4
    C9.6 17.7 8.8 21.9 9.2 26a18 18 0 0 0 5.5 2.8l1.2-1.9a12 12 0 0 1-1.9-.9l.5-.4a13 13 0 0 0 10.9 0
    l.5.4-1.9.9 1.2 1.9a18 18 0 0 0 5.5-2.8c.5-4.8-.8-9-3.1-12.6Z"/>
  <ellipse cx="16.3" cy="21.9" rx="1.9" ry="2.1" fill="{colour}"/>
  <ellipse cx="23.7" cy="21.9" rx="1.9" ry="2.1" fill="{colour}"/>
</svg>"""


def data_uri(svg: str) -> str:
    """An SVG as a data: URI for an <img>."""
    from urllib.parse import quote

    return "data:image/svg+xml;charset=utf-8," + quote(svg)


def avatar_colour(user: dict[str, Any]) -> str:
    """Which default avatar Discord shows a user without one."""
    discriminator = str(user.get("discriminator") or "0")
    if discriminator not in ("0", ""):
        return DEFAULT_AVATAR_COLOURS[int(discriminator) % 5]
    return DEFAULT_AVATAR_COLOURS[(int(user["id"]) >> 22) % 6]


# ---- the page -------------------------------------------------------------------------------------------------
def button_html(button: dict[str, Any]) -> str:
    """One button as Discord draws it: emoji and/or label, its style, dimmed when disabled."""
    style = BUTTON_CLASSES.get(int(button.get("style", 2)), "secondary")
    classes = ["button", style] + (["disabled"] if button.get("disabled") else [])
    inner = []
    emoji = button.get("emoji") or {}
    if emoji.get("name"):
        inner.append(text_html(str(emoji["name"])))
    if button.get("label"):
        inner.append(f'<span class="label">{html.escape(str(button["label"]))}</span>')
    if style == "link":
        inner.append(
            '<svg class="external" viewBox="0 0 24 24" width="16" height="16"><path fill="currentColor" '
            'd="M15 2a1 1 0 0 0 0 2h3.6l-7.3 7.3a1 1 0 1 0 1.4 1.4L20 5.4V9a1 1 0 1 0 2 0V3a1 1 0 0 0-1-1h-6Z'
            "M5 4a3 3 0 0 0-3 3v12a3 3 0 0 0 3 3h12a3 3 0 0 0 3-3v-5a1 1 0 1 0-2 0v5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1"
            'V7a1 1 0 0 1 1-1h5a1 1 0 1 0 0-2H5Z"/></svg>'
        )
    href = f' href="{html.escape(str(button["url"]), quote=True)}"' if button.get("url") else ""
    tag = "a" if href else "div"
    return f'<{tag} class="{" ".join(classes)}"{href}>{"".join(inner)}</{tag}>'


def embed_html(embed: dict[str, Any]) -> str:
    """A rich embed: colour bar, author, linked title, description, image, footer."""
    colour = f"#{int(embed['color']):06X}" if embed.get("color") is not None else "#1E1F22"
    parts = []
    author = embed.get("author") or {}
    if author.get("name"):
        name = html.escape(str(author["name"]))
        if author.get("url"):
            name = f'<a href="{html.escape(str(author["url"]), quote=True)}">{name}</a>'
        parts.append(f'<div class="embed-author">{name}</div>')
    if embed.get("title"):
        title = text_html(str(embed["title"]))
        if embed.get("url"):
            title = f'<a href="{html.escape(str(embed["url"]), quote=True)}">{title}</a>'
        parts.append(f'<div class="embed-title">{title}</div>')
    if embed.get("description"):
        parts.append(f'<div class="embed-description">{markdown_html(str(embed["description"]))}</div>')
    image = embed.get("image") or {}
    if image.get("url"):
        real = html.escape(str(image["url"]), quote=True)
        parts.append(
            f"<!-- The photo ({real}) can't be loaded without internet: a locally drawn sunset stands in. -->"
            f'<a class="embed-image" href="{real}"><img src="{data_uri(stand_in_photo())}" data-src="{real}" '
            f'alt="stand-in for the Pexels photo"></a>'
        )
    footer = (embed.get("footer") or {}).get("text")
    if footer:
        parts.append(f'<div class="embed-footer">{text_html(str(footer))}</div>')
    return f'<article class="embed" style="border-left-color: {colour}">{"".join(parts)}</article>'


def page_html(message: dict[str, Any]) -> str:
    """The message as a Discord dark-theme channel message."""
    author = message["author"]
    bot_name = html.escape(str(author.get("global_name") or author["username"]))
    invoker = (message.get("interaction_metadata") or {}).get("user") or {}
    command = (message.get("interaction_metadata") or {}).get("name") or ""
    sent = datetime.fromisoformat(message["timestamp"]).strftime("%H:%M")
    reply = ""
    if invoker:
        reply = f"""
  <div class="reply">
    <img class="reply-avatar" src="{data_uri(default_avatar(avatar_colour(invoker)))}" alt="">
    <span class="reply-name">{html.escape(str(invoker.get("global_name") or invoker["username"]))}</span>
    <span class="reply-used">used</span> <span class="reply-command">/{html.escape(str(command))}</span>
  </div>"""
    rows = "".join(
        f'<div class="row">{"".join(button_html(b) for b in row.get("components") or [] if b.get("type") == 2)}</div>'
        for row in message.get("components") or []
        if row.get("type") == 1
    )
    content = f'<div class="content">{markdown_html(message["content"])}</div>' if message.get("content") else ""
    embeds = "".join(embed_html(e) for e in message.get("embeds") or [])
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>/photo {html.escape(QUERY)} — a result as the loopback Discord holds it</title>
<style>{STYLE}</style>
</head>
<body>
<main class="channel">
<section class="message">{reply}
  <img class="avatar" src="{data_uri(default_avatar(avatar_colour(author)))}" alt="">
  <h3 class="header">
    <span class="name">{bot_name}</span>{'<span class="tag">BOT</span>' if author.get("bot") else ""}
    <time>Today at {sent}</time>
  </h3>
  {content}{embeds}
  <div class="components">{rows}</div>
</section>
</main>
<script>
  const box = document.querySelector(".channel").getBoundingClientRect();
  document.documentElement.dataset.size = Math.ceil(box.right) + "x" + Math.ceil(box.bottom);
</script>
</body>
</html>
"""


STYLE = """
:root { color-scheme: dark; }
* { box-sizing: border-box; }
html, body { margin: 0; background: #313338; }
body {
  font-family: "gg sans", "Noto Sans", "Helvetica Neue", Helvetica, Arial, "DejaVu Sans", sans-serif;
  color: #DBDEE1; font-size: 16px; line-height: 1.375; -webkit-font-smoothing: antialiased;
}
a { color: #00A8FC; text-decoration: none; }
.emoji {
  font-family: "Noto Color Emoji", sans-serif; font-size: 1.25em; line-height: 1; vertical-align: -0.15em;
  font-weight: 400;
}
.channel { display: inline-block; padding: 20px 28px 24px 0; }
.message { position: relative; padding: 2px 0 4px 72px; min-height: 44px; }
.reply { position: relative; display: flex; align-items: center; gap: 4px; height: 22px; margin-bottom: 4px;
  font-size: 14px; color: #B5BAC1; white-space: nowrap; }
.reply::before { content: ""; position: absolute; left: -36px; top: 10px; width: 32px; height: 12px;
  border-left: 2px solid #4E5058; border-top: 2px solid #4E5058; border-top-left-radius: 6px; }
.reply-avatar { width: 16px; height: 16px; border-radius: 50%; margin-right: 2px; }
.reply-name { color: #F2F3F5; font-weight: 500; }
.reply-used { color: #B5BAC1; }
.reply-command { color: #00A8FC; font-weight: 500; }
.avatar { position: absolute; left: 16px; top: 28px; width: 40px; height: 40px; border-radius: 50%; }
.header { margin: 0; display: flex; align-items: center; font-size: 16px; font-weight: 500; line-height: 22px; }
.name { color: #F2F3F5; font-weight: 600; }
.tag { margin-left: 5px; padding: 0 5px; height: 16px; line-height: 16px; border-radius: 4px;
  background: #5865F2; color: #FFF; font-size: 10px; font-weight: 700; letter-spacing: .02em; }
time { margin-left: 8px; color: #949BA4; font-size: 12px; font-weight: 500; }
.content { margin: 0; }
.embed { display: block; width: 520px; margin-top: 4px; padding: 8px 16px 16px 12px;
  background: #2B2D31; border-left: 4px solid; border-radius: 4px; }
.embed-author { margin-top: 8px; font-size: 14px; font-weight: 600; line-height: 22px; }
.embed-author a { color: #F2F3F5; }
.embed-title { margin-top: 8px; font-size: 16px; font-weight: 600; line-height: 22px; }
.embed-description { margin-top: 8px; font-size: 14px; line-height: 18px; white-space: normal; }
.embed-description strong { color: #F2F3F5; }
.embed-image { display: block; margin-top: 16px; }
.embed-image img { display: block; width: 488px; height: auto; border-radius: 4px; }
.embed-footer { margin-top: 8px; font-size: 12px; font-weight: 500; line-height: 16px; color: #DBDEE1; }
.embed-footer .emoji { font-size: 1.2em; }
.components { display: flex; flex-direction: column; gap: 8px; margin-top: 8px; padding-bottom: 2px; }
.row { display: flex; gap: 8px; }
.button { display: inline-flex; align-items: center; justify-content: center; gap: 6px; height: 32px;
  min-width: 60px; padding: 2px 16px; border-radius: 8px; color: #FFF; font-size: 14px; font-weight: 500;
  line-height: 16px; white-space: nowrap; }
.button .emoji { font-size: 19px; vertical-align: 0; }
.button.primary { background: #5865F2; }
.button.secondary, .button.link { background: #4E5058; }
.button.success { background: #248046; }
.button.danger { background: #DA373C; }
.button.link { color: #FFF; }
.button .external { margin-left: 2px; opacity: .9; }
.button.disabled { opacity: .5; cursor: not-allowed; }
"""


# ---- the screenshot -------------------------------------------------------------------------------------------
def chromium(*args: str) -> str:
    """Run headless Chromium once, in a fresh profile, on a local file; its stdout."""
    with tempfile.TemporaryDirectory(prefix="render-result-") as profile:
        command = [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--hide-scrollbars",
            *args,
        ]
        # A fixed absolute executable and arguments built here (our own temp dir and files): nothing untrusted.
        done = subprocess.run(  # noqa: S603
            command, capture_output=True, text=True, errors="replace", timeout=120, check=False
        )
    if done.returncode != 0:
        raise SystemExit(f"chromium failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def screenshot(page: Path, out: Path, scale: float) -> tuple[int, int]:
    """Measure the rendered message, then screenshot a window exactly that size."""
    dom = chromium("--window-size=1200,1600", "--dump-dom", page.as_uri())
    size = re.search(r'data-size="(\d+)x(\d+)"', dom)
    if not size:
        raise SystemExit("could not measure the page (no data-size in Chromium's DOM dump)")
    width, height = int(size[1]), int(size[2])
    out.unlink(missing_ok=True)
    chromium(
        f"--window-size={width},{height}",
        f"--force-device-scale-factor={scale:g}",
        f"--screenshot={out}",
        page.as_uri(),
    )
    if not out.exists():
        raise SystemExit(f"chromium wrote no screenshot to {out}")
    return width, height


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "result.png", help="the PNG to write")
    parser.add_argument("--html", type=Path, default=None, help="where to keep the HTML page (default: next to --out)")
    parser.add_argument("--bot-name", default=BOT_NAME, help="the bot's username on the loopback Discord")
    parser.add_argument("--scale", type=float, default=1.0, help="device pixel ratio (2 for a sharper picture)")
    args = parser.parse_args()
    if not Path(CHROMIUM).is_file():
        raise SystemExit(f"{CHROMIUM} is missing. Install Chromium and the fonts with:\n    {INSTALL_HINT}")
    out: Path = args.out.resolve()
    page: Path = (args.html or out.with_suffix(".html")).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    page.parent.mkdir(parents=True, exist_ok=True)

    message = asyncio.run(capture_message(args.bot_name))
    page.write_text(page_html(message), encoding="utf-8")
    width, height = screenshot(page, out, args.scale)

    embed = (message.get("embeds") or [{}])[0]
    print(f"wrote {out} ({width}×{height} CSS px at scale {args.scale:g}) and {page}")
    print(f"footer: {(embed.get('footer') or {}).get('text')!r}; title: {embed.get('title')!r}")
    print(
        "note: the photo in the picture is a locally drawn stand-in (no internet); "
        f"the bot's image URL was {(embed.get('image') or {}).get('url')}"
    )


if __name__ == "__main__":
    main()
