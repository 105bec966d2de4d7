"""Videos played in step: one control (play/pause, seek, speed, loop) drives every video of a group.

Each video is its own `st.html` element, so it can sit in a column above its own label and widgets;
the control is one more `st.html` whose script finds the group's videos in the page by a data attribute.
`st.html` is not an iframe (a `components.html` iframe would need a fixed height and could reach only
its own videos), and Streamlit re-inserts an element's HTML only when its text changes: a rerun (a
rating clicked, a job finished elsewhere) leaves playing videos alone.

The timeline is the longest video (the first of the longest): the others follow it, and any that
drifts more than DRIFT seconds from it is moved back in step; a shorter one rests on its last frame.
The script is fixed text: the only value put into it is the group id, made here from hex digits. What
users or servers wrote (prompts, labels) never goes into this HTML; the page shows those as plain text.
"""
from __future__ import annotations

import hashlib
from html import escape

import streamlit as st

DRIFT = 0.1  # seconds

_CONTROLS = """
<div class="studio-sync-controls" data-sync-controls="__GROUP__" data-state="paused"
     style="display:flex;flex-wrap:wrap;gap:0.75rem;align-items:center;font:inherit">
  <button type="button" data-role="play" aria-label="Play all videos"
          style="font:inherit;padding:0.3rem 1rem;border-radius:0.5rem;border:1px solid rgba(128,128,128,0.5);
                 background:transparent;color:inherit;cursor:pointer;min-width:6.5rem">&#9654; Play all</button>
  <input type="range" data-role="seek" aria-label="Position in every video" min="0" max="0" step="0.01"
         value="0" style="flex:1;min-width:10rem">
  <span data-role="time" style="font-variant-numeric:tabular-nums;min-width:7rem">0.0 / 0.0 s</span>
  <label style="display:flex;gap:0.3rem;align-items:center">Speed
    <select data-role="speed" aria-label="Playback speed" style="font:inherit;color:inherit;background:transparent">
      <option value="0.25">0.25x</option><option value="0.5">0.5x</option>
      <option value="1" selected>1x</option><option value="1.5">1.5x</option><option value="2">2x</option>
    </select></label>
  <label style="display:flex;gap:0.3rem;align-items:center">
    <input type="checkbox" data-role="loop" checked> Loop</label>
</div>
<script>
(() => {
  const group = "__GROUP__";
  const DRIFT = __DRIFT__;
  const roots = document.querySelectorAll(`[data-sync-controls="${group}"]`);
  const root = roots[roots.length - 1];
  if (!root || root.dataset.wired) return;
  root.dataset.wired = "1";
  const $ = role => root.querySelector(`[data-role="${role}"]`);
  const button = $("play"), seek = $("seek"), time = $("time"), speed = $("speed"), loop = $("loop");
  let playing = false, dragging = false;

  const videos = () => Array.from(document.querySelectorAll(`video[data-sync-group="${group}"]`))
    .sort((a, b) => Number(a.dataset.index) - Number(b.dataset.index));
  const length = v => (isFinite(v.duration) ? v.duration : 0);
  const leader = vs => vs.reduce((best, v) => (length(v) > length(best) ? v : best), vs[0]);
  const rate = () => Number(speed.value) || 1;
  const show = () => {
    root.dataset.state = playing ? "playing" : "paused";
    button.innerHTML = playing ? "&#10074;&#10074; Pause all" : "&#9654; Play all";
    button.setAttribute("aria-label", playing ? "Pause all videos" : "Play all videos");
  };
  const seekAll = t => videos().forEach(v => { v.currentTime = Math.min(t, length(v) || t); });
  const start = v => { v.muted = true; v.playbackRate = rate(); const p = v.play(); if (p) p.catch(() => {}); };

  function play() {
    const vs = videos();
    if (!vs.length) return;
    const lead = leader(vs);
    if (lead.ended || (length(lead) && lead.currentTime >= length(lead) - 0.05)) seekAll(0);
    playing = true;
    vs.forEach(v => { if (v.currentTime < length(v) || !length(v)) start(v); });
    show();
  }
  function pause() {
    playing = false;
    const vs = videos();
    vs.forEach(v => v.pause());
    if (vs.length) seekAll(leader(vs).currentTime);
    show();
  }

  function tick() {
    if (!root.isConnected) { clearInterval(timer); return; }  // the page moved on
    const vs = videos();
    if (!vs.length) return;
    const lead = leader(vs);
    const t = lead.currentTime;
    if (playing && lead.ended) {
      if (loop.checked) { seekAll(0); vs.forEach(start); } else { playing = false; show(); }
    }
    // A leader waiting for data holds the others, so they are not moved back again and again.
    const leadReady = lead.readyState >= 3 && !lead.seeking;
    for (const v of vs) {
      if (v.playbackRate !== rate()) v.playbackRate = rate();
      if (v === lead) continue;
      const target = Math.min(t, length(v) || t);
      if (!v.seeking && Math.abs(v.currentTime - target) > DRIFT) v.currentTime = target;
      const more = !length(v) || target < length(v) - 0.05;
      if (playing && leadReady && v.paused && more) start(v);
      if ((!leadReady || !playing) && !v.paused) v.pause();
    }
    if (playing && lead.paused && !lead.ended) start(lead);
    seek.max = String(length(lead));
    if (!dragging) seek.value = String(t);
    time.textContent = `${t.toFixed(1)} / ${length(lead).toFixed(1)} s`;
  }

  button.addEventListener("click", () => (playing ? pause() : play()));
  seek.addEventListener("input", () => { dragging = true; seekAll(Number(seek.value)); });
  seek.addEventListener("change", () => { dragging = false; seekAll(Number(seek.value)); });
  speed.addEventListener("change", () => videos().forEach(v => { v.playbackRate = rate(); }));
  const timer = setInterval(tick, 100);
  show();
})();
</script>
"""


def group_id(task_uuids) -> str:
    """One id per set of videos: a new pick gets a new control (and a fresh script)."""
    return "g" + hashlib.sha256(",".join(task_uuids).encode()).hexdigest()[:16]


def controls(group: str) -> None:
    """The one control that plays, pauses, seeks and paces every video of `group`."""
    html = _CONTROLS.replace("__GROUP__", group).replace("__DRIFT__", repr(DRIFT))
    st.html(html, unsafe_allow_javascript=True)


def video(group: str, index: int, src: str, poster: str | None = None) -> None:
    """One video of `group` (no controls of its own: the group's control drives it)."""
    poster_attr = f' poster="{escape(poster)}"' if poster else ""
    st.html(f'<video data-sync-group="{group}" data-index="{int(index)}" src="{escape(src)}"{poster_attr} '
            'muted playsinline preload="auto" style="width:100%;display:block;border-radius:0.5rem;'
            'background:#000"></video>')
