// Takedown review UI: live SLA countdowns, media reveal, keyboard shortcuts.
// Vendored, no dependencies, loaded with `defer`; the CSP forbids inline scripts, so every
// behaviour is attached here from data attributes the server renders.
(function () {
  "use strict";

  // --- Countdowns --------------------------------------------------------------------
  // Each [data-deadline] holds the deadline in Unix ms; the page's data-now holds the
  // server's clock at render time, so the countdown follows the server's (injectable) clock
  // plus the real time elapsed since the page loaded, whatever the browser's clock says.
  var loaded = Date.now();
  var nowHolder = document.querySelector("[data-now]");
  var serverNow = nowHolder ? Number(nowHolder.getAttribute("data-now")) : loaded;

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function format(ms) {
    var s = Math.trunc(ms / 1000);
    var sign = s < 0 ? "-" : "";
    s = Math.abs(s);
    var d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
    var sec = s % 60;
    return d > 0 ? sign + d + "d " + pad(h) + ":" + pad(m) + ":" + pad(sec)
                 : sign + h + ":" + pad(m) + ":" + pad(sec);
  }

  // Same thresholds as view::urgency on the server.
  function urgency(left, period) {
    if (left <= 0) return "breached";
    if (left * 4 < period) return "critical";
    if (left * 2 < period) return "warn";
    return "ok";
  }

  var CLASSES = ["ok", "warn", "critical", "breached"];

  function tick() {
    var now = serverNow + (Date.now() - loaded);
    document.querySelectorAll(".countdown[data-deadline]").forEach(function (el) {
      var deadline = Number(el.getAttribute("data-deadline"));
      if (!deadline) return;
      var left = deadline - now;
      el.textContent = format(left);
      var u = urgency(left, Number(el.getAttribute("data-period")) || 1);
      CLASSES.forEach(function (c) { el.classList.toggle(c, c === u); });
    });
  }
  tick();
  setInterval(tick, 1000);

  // --- Media reveal ----------------------------------------------------------------------
  var csrf = document.body.getAttribute("data-csrf") || "";

  // The page holds only the server-made preview. Revealing posts the (audited) reveal, then
  // swaps in the original; hiding swaps the preview back. Without this script the reveal
  // button submits the same form and the page comes back with the original.
  function setRevealed(fig, on) {
    if (fig.classList.contains("revealed") === on) return;
    var img = fig.querySelector("img");
    var base = "/cases/" + encodeURIComponent(fig.getAttribute("data-case")) + "/evidence/" +
      encodeURIComponent(fig.getAttribute("data-sha"));
    var button = fig.querySelector(".reveal");
    function show(state) {
      fig.classList.toggle("revealed", state);
      if (button) button.setAttribute("aria-pressed", state ? "true" : "false");
      if (fig.getAttribute("data-kind") === "video") {
        // The strip stays (it is blurred by the server); the original plays above it.
        var video = fig.querySelector("video");
        if (state && !video) {
          video = document.createElement("video");
          video.controls = true;
          video.preload = "metadata";
          video.width = 320;
          video.setAttribute("aria-label", "Original video, revealed");
          video.src = base + "/original";
          fig.insertBefore(video, fig.firstChild);
        } else if (!state && video) {
          video.removeAttribute("src");
          video.load();
          video.remove();
        }
      } else if (img) img.src = base + (state ? "/original" : "/preview");
    }
    if (!on) { show(false); return; }
    fetch(base + "/reveal", {
      method: "POST", credentials: "same-origin", headers: { "x-csrf-token": csrf }
    }).then(function (r) { if (r.ok) show(true); });
  }

  document.querySelectorAll("figure.media").forEach(function (fig) {
    var hold = fig.getAttribute("data-reveal") === "hold";
    if (hold) {
      fig.addEventListener("pointerdown", function (e) { e.preventDefault(); setRevealed(fig, true); });
      fig.addEventListener("click", function (e) { e.preventDefault(); });
      ["pointerup", "pointerleave", "pointercancel"].forEach(function (t) {
        fig.addEventListener(t, function () { setRevealed(fig, false); });
      });
    } else {
      fig.addEventListener("click", function (e) {
        if (e.target.closest && e.target.closest("video")) return; // its own controls
        e.preventDefault();
        setRevealed(fig, !fig.classList.contains("revealed"));
      });
    }
  });

  function currentFigure() {
    var active = document.activeElement;
    if (active && active.closest) {
      var f = active.closest("figure.media");
      if (f) return f;
    }
    return document.querySelector("figure.media");
  }

  // --- Keyboard ----------------------------------------------------------------------------
  var help = document.getElementById("help");
  function toggleHelp() {
    if (!help) return;
    if (help.open) help.close(); else help.showModal();
  }
  document.querySelectorAll("[data-help]").forEach(function (b) { b.addEventListener("click", toggleHelp); });

  function move(step) {
    var items = Array.prototype.slice.call(document.querySelectorAll("a.case-link, [data-item]"));
    if (!items.length) return;
    var i = items.indexOf(document.activeElement);
    var next = i < 0 ? (step > 0 ? 0 : items.length - 1) : Math.min(items.length - 1, Math.max(0, i + step));
    items[next].focus();
    var row = items[next].closest("tr");
    document.querySelectorAll("tr.selected").forEach(function (r) { r.classList.remove("selected"); });
    if (row) row.classList.add("selected");
  }

  function choose(id, focusSelector) {
    var radio = document.getElementById(id);
    if (!radio) return;
    radio.checked = true;
    var target = document.querySelector(focusSelector) || radio;
    target.focus();
  }

  function submit(id) {
    var form = document.getElementById(id);
    if (form) form.requestSubmit();
  }

  var holding = null;
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    var typing = t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
    if (typing && t.type !== "radio" && t.type !== "checkbox") return;
    switch (e.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "c": submit("claim-this"); submit("claim-next"); break;
      case "r": choose("o-remove", "#g-a"); break;
      case "n": choose("o-ntc", "#justification"); break;
      case "e": choose("o-escalate", "#justification"); break;
      case "?": toggleHelp(); break;
      case " ":
        var fig = currentFigure();
        if (!fig || (t && (t.tagName === "BUTTON" || t.type === "checkbox" || t.type === "radio"))) return;
        if (fig.getAttribute("data-reveal") === "hold") {
          if (!e.repeat) { setRevealed(fig, true); holding = fig; }
        } else {
          setRevealed(fig, !fig.classList.contains("revealed"));
        }
        break;
      default: return;
    }
    e.preventDefault();
  });
  document.addEventListener("keyup", function (e) {
    if (e.key === " " && holding) { setRevealed(holding, false); holding = null; }
  });
})();
