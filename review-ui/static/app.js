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

  // --- Live queue ---------------------------------------------------------------------------
  // The queue table names its live endpoint; every second while the page is visible the rows
  // and counts are fetched for the same query and swapped in place. The focused or selected
  // row stays focused or selected when it is still there.
  var live = document.querySelector("table[data-live]");
  if (live) {
    var tbody = document.getElementById("queue-rows");
    var emptyNote = document.getElementById("queue-empty");
    var lastRows = null;
    var inFlight = false;
    var COUNTS = ["queued", "senior", "claimed", "breached", "matching", "mine"];
    var refresh = function () {
      if (document.hidden || inFlight || !tbody) return;
      inFlight = true;
      fetch(live.getAttribute("data-live") + window.location.search, {
        credentials: "same-origin", headers: { accept: "application/json" }
      }).then(function (r) { return r.ok ? r.json() : null; }).then(function (d) {
        inFlight = false;
        if (!d) return;
        serverNow = d.now_ms;
        loaded = Date.now();
        if (d.rows !== lastRows) {
          var active = document.activeElement;
          var focusedRow = active && tbody.contains(active) ? active.closest("tr") : null;
          var focusedId = focusedRow ? focusedRow.getAttribute("data-id") : null;
          var sel = tbody.querySelector("tr.selected");
          var selectedId = sel ? sel.getAttribute("data-id") : null;
          tbody.innerHTML = d.rows;
          lastRows = d.rows;
          tbody.querySelectorAll("tr[data-id]").forEach(function (tr) {
            var id = tr.getAttribute("data-id");
            if (id === selectedId) tr.classList.add("selected");
            if (id === focusedId) { var a = tr.querySelector("a.case-link"); if (a) a.focus(); }
          });
        }
        if (emptyNote) emptyNote.hidden = !d.empty;
        COUNTS.forEach(function (k) {
          var el = document.getElementById("count-" + k);
          if (el && el.textContent !== String(d.counts[k])) el.textContent = String(d.counts[k]);
        });
        var at = document.getElementById("counts-at");
        if (at) at.textContent = d.counts_at;
        tick();
      }).catch(function () { inFlight = false; });
    };
    // Every 750 ms: with the server reading changes every 250 ms, a change shows within 1 s.
    setInterval(refresh, 750);
    document.addEventListener("visibilitychange", refresh);
  }

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
    if (!on) { show(false); clearTimeout(fig.reblurTimer); return; }
    fetch(base + "/reveal", {
      method: "POST", credentials: "same-origin", headers: { "x-csrf-token": csrf }
    }).then(function (r) {
      if (!r.ok) return null;
      show(true);
      // Blur again by itself after the moderator's chosen delay.
      var after = Number(fig.getAttribute("data-reblur")) || 0;
      if (after > 0) {
        clearTimeout(fig.reblurTimer);
        fig.reblurTimer = setTimeout(function () { setRevealed(fig, false); }, after * 1000);
      }
      return r.json();
    }).then(function (d) {
      if (!d || typeof d.exposure !== "number") return;
      var count = document.getElementById("exposure-count");
      if (count) count.textContent = String(d.exposure);
      var prompt = document.getElementById("break-prompt");
      var limit = prompt ? Number(prompt.getAttribute("data-break-after")) || 0 : 0;
      if (prompt && limit > 0 && d.exposure >= limit) prompt.hidden = false;
    }).catch(function () {});
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

  // --- Times ----------------------------------------------------------------------------
  // The server writes every time in UTC; each <time> is shown in the viewer's time zone,
  // with the UTC text kept as its hover title.
  function two(n) { return n < 10 ? "0" + n : String(n); }
  document.querySelectorAll("time[datetime]").forEach(function (t) {
    var d = new Date(t.getAttribute("datetime"));
    if (isNaN(d.getTime())) return;
    var zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
    t.title = t.textContent;
    t.textContent = d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " +
      two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds()) +
      (zone ? " (" + zone + ")" : "");
  });

  // --- Decision form -----------------------------------------------------------------------
  // Only the fields the chosen outcome needs are shown (without this script, all are); a
  // standard reason fills the justification, which stays editable.
  var form = document.getElementById("decision");
  if (form) {
    var showFields = function () {
      var chosen = form.querySelector("input[name=outcome]:checked");
      var outcome = chosen ? chosen.value : "";
      form.querySelectorAll("[data-for]").forEach(function (el) {
        var wanted = el.getAttribute("data-for").split(" ");
        el.hidden = outcome !== "" && wanted.indexOf(outcome) < 0;
      });
      var canned = document.getElementById("canned");
      if (canned) {
        canned.querySelectorAll("option[data-outcome]").forEach(function (o) {
          o.hidden = outcome !== "" && o.getAttribute("data-outcome") !== outcome;
        });
      }
    };
    form.querySelectorAll("input[name=outcome]").forEach(function (r) { r.addEventListener("change", showFields); });
    showFields();
    var cannedSelect = document.getElementById("canned");
    var just = document.getElementById("justification");
    if (cannedSelect && just) {
      cannedSelect.addEventListener("change", function () {
        if (cannedSelect.value) { just.value = cannedSelect.value; just.focus(); }
      });
    }
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
    radio.dispatchEvent(new Event("change"));
    var target = document.querySelector(focusSelector) || radio;
    target.focus();
  }

  function submit(id) {
    var form = document.getElementById(id);
    if (form) form.requestSubmit();
  }

  // --- Post text ---------------------------------------------------------------------------
  // Collapsed until opened (t); text of the most severe kind stays blurred until unveiled.
  function togglePostText() {
    var d = document.getElementById("post-text");
    if (d) d.open = !d.open;
  }
  document.querySelectorAll("button.unveil").forEach(function (b) {
    b.addEventListener("click", function () {
      var on = document.body.classList.toggle("text-unveiled");
      b.setAttribute("aria-pressed", on ? "true" : "false");
    });
  });

  var holding = null;
  document.addEventListener("keydown", function (e) {
    // Ctrl+Enter (or Cmd+Enter) records the decision from anywhere on the case page.
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter" && document.getElementById("decision")) {
      e.preventDefault();
      submit("decision");
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    var typing = t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
    if (typing && t.type !== "radio" && t.type !== "checkbox") return;
    switch (e.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "c": submit("claim-this"); submit("claim-next"); break;
      case "s": submit("skip-this"); break;
      case "r": choose("o-remove", "#g-a"); break;
      case "n": choose("o-ntc", "#justification"); break;
      case "e": choose("o-escalate", "#justification"); break;
      case "d": choose("o-disable", "#g-a"); break;
      case "l": choose("o-ttl", "#justification"); break;
      case "t": togglePostText(); break;
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
