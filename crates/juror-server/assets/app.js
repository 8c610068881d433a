// Juror labeling page: keyboard shortcuts, ranking helpers, draft autosave
// and the differences panel. Plain JS, no dependencies, loaded with `defer`.
// Everything here is an enhancement: the server-rendered form works without it.
"use strict";

(() => {
  if (document.body.dataset.page !== "record") return;
  const form = document.getElementById("answer");
  if (!form) return;

  const AUTOSAVE_DELAY_MS = 1500;
  const KEEPALIVE_MAX_BYTES = 60000; // browsers refuse keepalive bodies over 64 KiB
  const SUBMIT_WAIT_MS = 3000; // longest a submit waits for a draft already sent
  const PAIRWISE_RANKS = { first: ["1", "2"], second: ["2", "1"], tie: ["1", "1"] };
  const PAIRWISE_KEYS = { 1: "first", 2: "second", 0: "tie" };
  const LIST_STEPS = { ArrowDown: 1, j: 1, ArrowUp: -1, k: -1 };
  const NON_TEXT_INPUTS = new Set(["radio", "checkbox", "button", "submit", "reset", "hidden", "range", "color", "file", "image"]);
  const NATIVE_ENTER = "textarea, button, a[href], summary, [contenteditable], input[type=submit], input[type=button], input[type=reset]";
  const FETCH_HEADERS = { "X-Requested-With": "fetch" };

  let countedUntil = performance.now(); // time on task is counted from here
  const questions = Array.from(form.querySelectorAll(".question"));
  const submitButton = form.querySelector('button[name="action"][value="submit"]');
  const statusBox = document.getElementById("save-status");
  const dialog = document.getElementById("shortcuts");
  const diffButton = document.getElementById("toggle-diff");
  const diffBox = document.getElementById("diff");
  const autosave = form.dataset.autosave === "true";
  // Not `form.action`: the buttons named "action" shadow that property.
  const postUrl = new URL(form.getAttribute("action") || "", location.href).href;

  let active = null; // the question keys apply to
  let saveTimer = 0; // pending autosave, 0 when none
  let inflight = null; // draft request on the wire, if any
  let saveSeq = 0; // only the newest draft answer updates the status line
  let submitting = false;
  let diffRequest = null; // the diff fragment, fetched once
  let diffBusy = false;

  // ---------------------------------------------------------------- helpers
  const typeOf = (q) => q.dataset.type;
  const options = (q) => Array.from(q.querySelectorAll("ol.ranking > li.option"));
  const rankSelect = (li) => li.querySelector("select.rank");
  const rankOf = (li) => rankSelect(li)?.value || "";
  const currentOf = (q) => q.querySelector("li.option.current");
  const isPairwise = (q) => q.querySelector(".pairwise") !== null;
  const isListRanking = (q) => typeOf(q) === "ranking" && !isPairwise(q);
  const closestIn = (target, selector) => (target instanceof Element ? target.closest(selector) : null);

  function isTyping(el) {
    if (!(el instanceof Element)) return false;
    if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
    return el.tagName === "INPUT" && !NON_TEXT_INPUTS.has(el.type);
  }

  // Programmatic changes must look like user edits (badges, autosave).
  function setRank(select, value) {
    if (!select || select.value === value) return;
    if (!Array.from(select.options).some((o) => o.value === value)) return;
    select.value = value;
    select.dispatchEvent(new Event("input", { bubbles: true }));
    select.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function submitWith(button) {
    if (!button) return;
    if (dialog?.open) dialog.close();
    if (typeof form.requestSubmit === "function") form.requestSubmit(button);
    else button.click();
  }

  // The time sent is since the last confirmed draft save (the server adds a draft's times up),
  // so it is the time on task of this answer, across visits and saves.
  function stampTime() {
    const now = performance.now();
    const field = form.elements.namedItem("time_on_task_ms");
    if (field) field.value = String(Math.round(now - countedUntil));
    return now;
  }

  function clock(iso) {
    const parsed = iso ? new Date(iso) : new Date();
    const t = Number.isNaN(parsed.getTime()) ? new Date() : parsed;
    return [t.getHours(), t.getMinutes(), t.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
  }

  function setStatus(text, isError = false) {
    if (!statusBox) return;
    statusBox.textContent = text;
    statusBox.classList.toggle("error", isError);
    statusBox.classList.toggle("ok", !isError);
  }

  // -------------------------------------------------------- active question
  function isAnswered(q) {
    if (typeOf(q) === "ranking") return options(q).every((li) => rankOf(li) !== "");
    if (typeOf(q) === "text") return (q.querySelector("textarea")?.value.trim() || "") !== "";
    return q.querySelector("input:checked") !== null;
  }

  function setActive(q, scroll = false) {
    if (!q) return;
    if (q !== active) {
      active?.classList.remove("active");
      active = q;
      q.classList.add("active");
    }
    if (scroll) q.scrollIntoView({ block: "nearest" });
  }

  // After a choice, the keys go to the next question. Focus left behind in
  // the answered one would keep arrow keys changing it, so drop it.
  function advance(from) {
    if (from.contains(document.activeElement)) document.activeElement.blur();
    const next = questions[questions.indexOf(from) + 1];
    if (next) setActive(next, true);
  }

  // ---------------------------------------------------------------- ranking
  function addBadges(q) {
    for (const li of options(q)) {
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.setAttribute("aria-hidden", "true"); // the select already says it
      li.prepend(badge);
    }
  }

  function refreshRanking(q) {
    for (const li of options(q)) {
      const rank = rankOf(li);
      li.classList.toggle("ranked", rank !== "");
      const badge = li.querySelector(".badge");
      if (!badge) continue;
      badge.textContent = rank || "–";
      badge.classList.toggle("unset", rank === "");
    }
    if (isPairwise(q)) refreshPairwise(q);
  }

  function setCurrent(q, li, scroll = false) {
    if (!li) return;
    for (const o of options(q)) o.classList.toggle("current", o === li);
    if (scroll) li.scrollIntoView({ block: "nearest" });
  }

  function moveCurrent(q, delta) {
    const list = options(q);
    const i = list.indexOf(currentOf(q)) + delta;
    setCurrent(q, list[Math.min(list.length - 1, Math.max(0, i))], true);
  }

  function rankCurrent(q, rank) {
    const list = options(q);
    const li = currentOf(q) || list[0];
    setRank(rankSelect(li), String(rank));
    const next = list[list.indexOf(li) + 1];
    if (next) return setCurrent(q, next, true);
    setCurrent(q, list[0]);
    advance(q);
  }

  function rankByPosition(q) {
    options(q).forEach((li, i) => setRank(rankSelect(li), String(i + 1)));
  }

  // Drag and drop reorders the list live; on drop the selects get 1..N by
  // visual position. A drag that ends outside the list puts things back.
  function wireDrag(q) {
    const list = q.querySelector("ol.ranking");
    if (!list) return;
    let dragged = null;
    let before = [];
    let dropped = false;
    list.addEventListener("dragstart", (e) => {
      const li = closestIn(e.target, "li.option");
      if (!li || li.parentElement !== list) return;
      [dragged, before, dropped] = [li, options(q), false];
      li.classList.add("dragging");
      e.dataTransfer.effectAllowed = "move";
      // A private type, so text fields elsewhere refuse the drop.
      e.dataTransfer.setData("application/x-juror-option", String(before.indexOf(li)));
    });
    list.addEventListener("dragover", (e) => {
      if (!dragged) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = "move";
      const over = closestIn(e.target, "li.option");
      if (!over || over === dragged || over.parentElement !== list) return;
      const box = over.getBoundingClientRect();
      list.insertBefore(dragged, e.clientY > box.top + box.height / 2 ? over.nextSibling : over);
    });
    list.addEventListener("drop", (e) => {
      if (!dragged) return;
      e.preventDefault();
      dropped = true;
    });
    list.addEventListener("dragend", () => {
      if (!dragged) return;
      dragged.classList.remove("dragging");
      if (!dropped) before.forEach((li) => list.appendChild(li));
      else if (options(q).some((li, i) => li !== before[i])) rankByPosition(q);
      dragged = null;
    });
  }

  function initRanking(q) {
    if (isPairwise(q)) {
      // The buttons speak of the shown order, so that order must not move.
      for (const li of options(q)) li.draggable = false;
    } else {
      addBadges(q);
      wireDrag(q);
      const list = options(q);
      setCurrent(q, list.find((li) => rankOf(li) === "") || list[0]);
    }
    refreshRanking(q);
  }

  // --------------------------------------------------------------- pairwise
  function pairwiseChoice(q) {
    const [a, b] = options(q).map(rankOf);
    if (!a || !b) return null;
    if (a === b) return "tie";
    return Number(a) < Number(b) ? "first" : "second";
  }

  function refreshPairwise(q) {
    const choice = pairwiseChoice(q);
    for (const button of q.querySelectorAll(".pairwise [data-choice]")) {
      button.setAttribute("aria-pressed", String(button.dataset.choice === choice));
    }
  }

  function choosePairwise(q, choice) {
    const ranks = PAIRWISE_RANKS[choice];
    if (!ranks) return;
    options(q).forEach((li, i) => setRank(rankSelect(li), ranks[i]));
    refreshPairwise(q);
    advance(q);
  }

  // ------------------------------------------------- radios and checkboxes
  // Rating keys mean values (0 = 10); other keys mean the n-th choice.
  function pickInput(q, digit) {
    const inputs = Array.from(q.querySelectorAll(".choices input"));
    const byValue = (v) => inputs.find((input) => input.value === v);
    const nth = inputs[(digit === 0 ? 10 : digit) - 1];
    if (typeOf(q) !== "rating") return nth;
    if (digit === 0) return byValue("10") || byValue("0") || nth;
    return byValue(String(digit)) || nth;
  }

  function chooseInput(q, digit) {
    const input = pickInput(q, digit);
    if (!input || input.disabled) return false;
    if (!input.checked || input.type === "checkbox") input.click(); // fires input/change
    if (input.type !== "checkbox") advance(q); // several labels may apply: stay
    return true;
  }

  function onDigit(digit) {
    const q = active;
    if (!q) return false;
    if (isPairwise(q)) {
      if (!PAIRWISE_KEYS[digit]) return false;
      choosePairwise(q, PAIRWISE_KEYS[digit]);
      return true;
    }
    if (isListRanking(q)) {
      const rank = digit === 0 ? 10 : digit;
      if (rank > options(q).length) return false;
      rankCurrent(q, rank);
      return true;
    }
    return q.querySelector(".choices input") !== null && chooseInput(q, digit);
  }

  // ------------------------------------------------------------ draft saves
  function scheduleSave() {
    if (!autosave || submitting) return;
    clearTimeout(saveTimer);
    saveTimer = setTimeout(() => saveDraft(false, true), AUTOSAVE_DELAY_MS);
  }

  function cancelAutosave() {
    clearTimeout(saveTimer);
    saveTimer = 0;
  }

  function flushSave() {
    if (saveTimer && !submitting) saveDraft(true, true);
  }

  // A redirect (expired session → login page) answers 200 with HTML, so
  // success needs the JSON the server promises, not just res.ok.
  async function readSaveResult(res) {
    const data = await res.json().catch(() => ({}));
    if (res.ok && data.status === "draft") return { ok: true, at: data.saved_at };
    if (data.detail) return { ok: false, message: data.detail };
    return { ok: false, message: res.ok ? "unexpected answer (signed out?)" : `HTTP ${res.status}` };
  }

  // Automatic saves say so: the server never lets one replace a submitted or discarded answer.
  function saveDraft(keepalive = false, automatic = false) {
    cancelAutosave();
    const stampedAt = stampTime();
    const body = new URLSearchParams(new FormData(form));
    body.append("action", "draft");
    if (automatic) body.append("autosave", "1");
    const seq = ++saveSeq;
    const request = fetch(postUrl, {
      method: "POST", body, headers: FETCH_HEADERS, credentials: "same-origin",
      // URLSearchParams percent-encodes, so string length is the byte count.
      keepalive: keepalive && body.toString().length < KEEPALIVE_MAX_BYTES,
    })
      .then(readSaveResult, () => ({ ok: false, message: "network error" }))
      .then((result) => {
        if (result.ok) countedUntil = Math.max(countedUntil, stampedAt);
        if (seq !== saveSeq) return;
        if (result.ok) setStatus(`Draft saved ${clock(result.at)}`);
        else setStatus(`Not saved: ${result.message}`, true);
      });
    inflight = request;
    request.finally(() => {
      if (inflight === request) inflight = null;
    });
  }

  // A real submit cancels pending drafts; one already sent lands first, so
  // it cannot overwrite the submitted answer.
  function onSubmit(e) {
    cancelAutosave();
    if (inflight) {
      e.preventDefault();
      const submitter = e.submitter || submitButton;
      const wait = new Promise((resolve) => setTimeout(resolve, SUBMIT_WAIT_MS));
      Promise.race([inflight, wait]).then(() => submitWith(submitter));
      inflight = null;
      return;
    }
    stampTime();
    submitting = true;
  }

  // ------------------------------------------------------------ differences
  async function loadDiff() {
    try {
      const res = await fetch(diffButton.dataset.diffUrl, { headers: FETCH_HEADERS, credentials: "same-origin" });
      if (!res.ok || res.redirected) throw new Error(`HTTP ${res.status}`);
      diffBox.innerHTML = await res.text(); // a fragment the server built and escaped
    } catch (err) {
      diffBox.textContent = `Could not load differences (${err.message}).`;
      diffRequest = null; // try again next time
    }
  }

  async function toggleDiff() {
    if (!diffButton || !diffBox || diffBusy) return;
    const opening = diffBox.hidden;
    if (opening) {
      diffBusy = true;
      diffButton.setAttribute("aria-busy", "true");
      await (diffRequest ||= loadDiff());
      diffButton.removeAttribute("aria-busy");
      diffBusy = false;
    }
    diffBox.hidden = !opening;
    diffButton.setAttribute("aria-expanded", String(opening));
    if (diffButton.children.length === 0) diffButton.textContent = opening ? "Hide differences" : "Show differences";
    if (opening) diffBox.scrollIntoView({ block: "nearest" });
  }

  // --------------------------------------------------------------- keyboard
  function toggleDialog() {
    if (typeof dialog?.showModal !== "function") return false;
    if (dialog.open) dialog.close();
    else dialog.showModal();
    return true;
  }

  const clickAction = (value) => submitWith(form.querySelector(`button[name="action"][value="${value}"]`));

  function goBack() {
    const back = document.getElementById("back");
    if (back?.href) location.assign(back.href);
  }

  const SHIFT_KEYS = { s: () => clickAction("skip"), d: () => clickAction("discard"), b: goBack };

  function onPlainKey(e) {
    if (e.key === "?") return toggleDialog();
    if (e.shiftKey) {
      const action = SHIFT_KEYS[e.key.toLowerCase()];
      if (!action) return false;
      action();
      return true;
    }
    if (/^[0-9]$/.test(e.key)) return onDigit(Number(e.key));
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    if (key === "d" && diffButton) {
      toggleDiff();
      return true;
    }
    const step = LIST_STEPS[key];
    if (!step || !active || !isListRanking(active)) return false;
    moveCurrent(active, step);
    return true;
  }

  // Enter submits, except where it already means something (new line,
  // pressing a button, following a link). Left to the browser, Enter in a
  // radio would submit with the form's first button, which is Skip.
  function onEnter(e) {
    if (e.shiftKey || closestIn(e.target, NATIVE_ENTER)) return;
    e.preventDefault();
    submitWith(submitButton);
  }

  function onModifiedKey(e) {
    if (e.key === "Enter") {
      e.preventDefault();
      submitWith(submitButton);
    } else if (e.key.toLowerCase() === "s") {
      e.preventDefault();
      saveDraft();
    }
  }

  function onEscape(e) {
    if (dialog?.open) {
      e.preventDefault();
      return dialog.close();
    }
    const focused = document.activeElement;
    if (focused && focused !== document.body) focused.blur();
  }

  function onKeydown(e) {
    if (e.isComposing || e.defaultPrevented) return;
    if ((e.ctrlKey || e.metaKey) && !e.altKey) return onModifiedKey(e);
    if (e.key === "Escape") return onEscape(e);
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (dialog?.open) {
      if (e.key === "?" && toggleDialog()) e.preventDefault();
      return;
    }
    if (e.key === "Enter") return onEnter(e);
    if (!isTyping(e.target) && onPlainKey(e)) e.preventDefault();
  }

  // ------------------------------------------------------ pointer and focus
  function followPointer(e) {
    const q = closestIn(e.target, ".question");
    if (!q) return null;
    setActive(q);
    const li = closestIn(e.target, "li.option");
    if (li && isListRanking(q)) setCurrent(q, li);
    return q;
  }

  function onFormClick(e) {
    const q = followPointer(e);
    const choice = closestIn(e.target, ".pairwise [data-choice]");
    if (q && choice) choosePairwise(q, choice.dataset.choice);
  }

  function onFormChange(e) {
    if (closestIn(e.target, "select.rank")) refreshRanking(e.target.closest(".question"));
    scheduleSave();
  }

  // -------------------------------------------------------------------- init
  const rankings = questions.filter((q) => typeOf(q) === "ranking");
  rankings.forEach(initRanking);
  setActive(questions.find((q) => !isAnswered(q)) || questions[0]);

  form.addEventListener("click", onFormClick);
  form.addEventListener("focusin", followPointer);
  form.addEventListener("input", scheduleSave);
  form.addEventListener("change", onFormChange);
  form.addEventListener("submit", onSubmit);
  document.addEventListener("keydown", onKeydown);
  diffButton?.addEventListener("click", toggleDiff);
  document.getElementById("help")?.addEventListener("click", toggleDialog);
  window.addEventListener("pagehide", flushSave);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") flushSave();
  });
  // Back/forward navigation may restore old form values after this ran.
  window.addEventListener("pageshow", () => {
    submitting = false;
    rankings.forEach(refreshRanking);
  });
})();
