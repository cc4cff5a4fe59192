"""`python -m tests.playground`: a contributor's session, scripted, reads as a user would see it."""

from __future__ import annotations

import asyncio
import io
import sys

from tests.fakes.pexels import FakePexels
from tests.harness import ROOT, clean_environment
from tests.playground import play

CONTENT = FakePexels()  # never started: only its deterministic content is used


async def test_a_scripted_session_shows_the_credit_and_the_counter() -> None:
    """The documented command runs the real bot: search, page on, jump; each result is printed, credited."""
    script = "/photo cats orientation:portrait; press ▶; press counter; modal 42; as 2; press ▶"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.playground", "--script", script, cwd=ROOT, env=clean_environment(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    transcript = out.decode()
    assert proc.returncode == 0, transcript + err.decode()

    second = CONTENT.photo("cats", 1, locale="en-US", orientation="portrait")
    credit = f"📷 Photo by [{second['photographer']}]({second['photographer_url']}) on [Pexels]({second['url']})"
    after_next = transcript.split("> press ▶", 1)[1]
    assert credit in after_next.split(">", 1)[0], transcript
    assert 'footer: 2 / 240 · "cats"' in after_next, transcript
    assert "[◀]" in after_next and "[2 / 240]" in after_next, "the buttons, enabled now that there is a previous"
    assert "form: Jump to a result" in transcript and "Result number (1 to 240)" in transcript
    jumped = CONTENT.photo("cats", 41, locale="en-US", orientation="portrait")
    assert jumped["photographer"] in transcript.split("> modal 42", 1)[1], transcript
    assert 'footer: 42 / 240 · "cats"' in transcript
    refusal = transcript.split("> as 2", 1)[1]
    assert "only you see this" in refusal and "belong to the person who searched" in refusal, transcript


async def test_a_script_stops_at_the_first_command_that_fails() -> None:
    """A disabled button (◀ on the first result) is a clear mistake, the script stops there and fails."""
    out = io.StringIO()
    code = await play(["/photo lighthouse", "press ◀", "press ▶"], {}, out)
    transcript = out.getvalue()
    assert code == 1, transcript
    assert "✗ button '◀' on message" in transcript and "is disabled" in transcript, transcript
    assert "> press ▶" not in transcript


async def test_private_results_in_a_dm_and_posting_one() -> None:
    """In a DM, a private result is the searcher's only; 📤 Post shares it, credited, naming who shared it."""
    out = io.StringIO()
    code = await play(["in dm", "/photo harbour private:true", "press post", "show"], {}, out)
    transcript = out.getvalue()
    assert code == 0, transcript
    posted = transcript.split("> press post", 1)[1]
    assert "📤 Posted to the channel." in posted
    assert 'footer: Shared by user1 · "harbour"' in posted
    shown = transcript.split("> show", 1)[1]
    assert "#2 public" in shown and "[View on Pexels ↗ " in shown, transcript
