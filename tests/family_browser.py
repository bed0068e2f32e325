"""A family member's browser: Debian's Chromium, headless, driven by Selenium through Debian's
chromedriver, with Chromium's own fake camera and microphone (or files the test wrote).

Only loopback is ever asked for: the flags keep Chromium from its background connections.
"""

from __future__ import annotations

import math
import os
import shutil
import struct
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream", "--autoplay-policy=no-user-gesture-required",
    "--window-size=1024,768",
)  # fmt: skip

# What the page's own peer connection received, from the browser's getStats.
STATS_JS = """
return (async () => {
  if (!state.pc) return null;
  const out = {framesDecoded: 0, audioLevel: 0, audioSamples: 0};
  out.connection = state.pc.connectionState;
  const report = await state.pc.getStats();
  const codec = (r) => (report.get(r.codecId) || {}).mimeType || "";
  report.forEach((r) => {
    if (r.type === "inbound-rtp" && r.kind === "video") {
      out.framesDecoded = r.framesDecoded || 0; out.frameWidth = r.frameWidth || 0;
      out.videoIn = codec(r);
    }
    if (r.type === "outbound-rtp") out[r.kind === "video" ? "videoOut" : "audioOut"] = codec(r);
    if (r.type === "local-candidate" && r.candidateType) out.route = r.candidateType;
    if (r.type === "inbound-rtp" && r.kind === "audio") {
      out.audioLevel = r.audioLevel || 0; out.audioSamples = r.totalSamplesReceived || 0;
      out.audioIn = codec(r);
    }
  });
  return out;
})();
"""


def write_voice(path: Path, seconds: float = 3.0, rate: int = 48_000) -> Path:
    """A WAV that sounds enough like speech for the browser's noise suppression to let it
    through: syllables of a gliding tone, 200 ms each with 100 ms gaps (a steady tone is taken
    for noise and removed). Chromium plays the file in a loop as its microphone."""

    def sample(n: int) -> int:
        t = n / rate
        syllable, within = divmod(t, 0.3)
        if within > 0.2:
            return 0
        hz = (220.0, 330.0, 275.0)[int(syllable) % 3] * (1 + 0.5 * within)
        envelope = math.sin(math.pi * within / 0.2)
        return round(0.5 * 32767 * envelope * math.sin(2 * math.pi * hz * t))

    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", sample(n)) for n in range(int(rate * seconds))))
    return path


class FamilyBrowser:
    """One Chromium with the family's page; a context manager. Its microphone "speaks"."""

    def __init__(
        self, language: str = "en", camera: Path | None = None, nice: int = 0, idle: bool = False
    ) -> None:
        """``camera``: a Y4M file played as the camera (Chromium's test pattern without one);
        ``nice``: Chromium's niceness, and ``idle``: the kernel's idle policy for it, so that
        it runs only on processor time nothing else wants (a family's browser is on another
        machine: a benchmark lets it take only what this one's kiosk leaves)."""
        self._profile = Path(tempfile.mkdtemp(prefix="kiosk-family-browser-"))
        voice = write_voice(self._profile / "voice.wav")
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        flags = [f"--user-data-dir={self._profile / 'profile'}", f"--lang={language}",
                 f"--use-file-for-fake-audio-capture={voice}"]  # fmt: skip
        if camera is not None:
            flags.append(f"--use-file-for-fake-video-capture={camera}")
        for flag in (*FLAGS, *flags):
            options.add_argument(flag)
        options.add_experimental_option("prefs", {"intl.accept_languages": language})
        driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"

        def lowered() -> None:  # Chromium's processes inherit the driver's priority
            os.nice(nice)
            if idle:
                os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))

        popen = {"preexec_fn": lowered} if nice or idle else {}
        self.driver = webdriver.Chrome(options=options, service=Service(driver, popen_kw=popen))

    def __enter__(self) -> FamilyBrowser:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.driver.quit()
        shutil.rmtree(self._profile, ignore_errors=True)

    def open(self, url: str) -> None:
        self.driver.get(url)

    def text(self, element_id: str) -> str:
        return self.driver.find_element(By.ID, element_id).text

    def press(self, element_id: str) -> None:
        self.driver.find_element(By.ID, element_id).click()

    def reload(self) -> None:
        self.driver.refresh()

    def shown(self) -> list[dict[str, Any]]:
        """Every status and warning line the page showed, in order: ``{at, id, text}``, ``at``
        in milliseconds of the wall clock."""
        return self.driver.execute_script("return state.shown;")

    def stats(self) -> dict[str, Any] | None:
        return self.driver.execute_script(STATS_JS)

    def until(self, condition: Any, timeout: float, what: str) -> Any:
        """Poll ``condition(self)`` until it returns something true; that value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition(self)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"the family's page never showed {what}: {self.stats()}")
