// The interpreter console: sign in, say whether calls may ring, answer a kiosk's call with
// camera and microphone, see today's calls. It speaks the dispatch protocol (docs/protocol.md)
// over one WebSocket, exactly as kiosk/call/simulator.py does.
//
// Layout of this file: `state` holds everything the screen shows; `io` holds the live
// connections and timers behind it. Handlers change `state` and call `render()`, which has one
// function per panel. All visible text comes from i18n.js.
"use strict";

import { DEFAULT_LANGUAGE, formatClock, formatDuration, getLanguage, has, setLanguage, t } from "./i18n.js";
import { T140_PROTOCOL, T140Receiver, T140Sender, textChange } from "./text.js";

const PROTOCOL_VERSION = 1;
const RECONNECT_DELAYS_S = [0.5, 1, 2, 3, 5];
const ICE_GATHERING_MAX_MS = 2000;
const MEDIA_WAIT_AT_OFFER_MS = 4000;
// no media from the kiosk this long: "reconnecting" (the kiosk then sends a fresh offer) …
const MEDIA_WATCHDOG_S = 3;
// … and this long: the call is over (network_lost), as on the kiosk (60 s of attempts after 3 s)
const MEDIA_GIVE_UP_S = 65;
const HISTORY_RECHECK_MS = 3000;
const TICK_MS = 250;
const SESSION_KEY = "interpreter-console.session";
const LANGUAGE_KEY = "interpreter-console.language";
const CAMERA_CONSTRAINTS = {
  audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
  // sign language needs a sharp, fluid picture
  video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } },
};

// --- state -------------------------------------------------------------------------------

const state = {
  auth: null, // {token, id, name, expiresAt}
  config: { ice_servers: [], ring_timeout_s: null, wrap_up_s: null },
  login: { busy: false, error: null, errorParams: {} },
  link: { phase: "down", retryAt: null, attempt: 0 }, // down | connecting | up | stopped
  linkStopReason: null, // link_replaced | link_outdated
  status: null, // the last `status` from dispatch
  statusAt: 0,
  presenceWanted: "away", // what the interpreter last chose (or dispatch set)
  ring: null, // {session_id, kiosk_id, location, waited_s, started_by, category, timeout_s, at}
  call: null, // {session_id, location, kiosk_id, phase, attempt, acceptedAt, connectedAt, answerSent, hasRemoteVideo, ...}
  // phase: connecting | connected | unstable | reconnecting (no media: the kiosk offers again)
  media: { phase: "idle", error: null }, // idle | starting | on | failed
  muted: false,
  cameraOff: false,
  history: { calls: [], phase: "idle", version: 0 }, // idle | loading | ok | error
  notice: null, // {key, params}
  soundBlocked: false,
};

const io = {
  ws: null,
  reconnectTimer: null,
  pc: null,
  stream: null,
  mediaPromise: null,
  audio: null, // AudioContext, created on the sign-in click
  ringBus: null,
  ringTimer: null,
  titleTimer: null,
  titleFlash: false,
  fpsTimer: null, // samples the call's frame rates each second
  fpsLast: null,
  historyTimer: null,
  renderedHistory: -1,
  renderedLanguage: null,
};

const $ = (id) => document.getElementById(id);
const now = () => Date.now();

// --- small DOM helpers -------------------------------------------------------------------

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function show(el, visible) {
  if (el.hidden === visible) el.hidden = !visible;
}

function setAttr(el, name, value) {
  if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}

function applyStaticText() {
  for (const el of document.querySelectorAll("[data-i18n]")) setText(el, t(el.dataset.i18n));
  for (const el of document.querySelectorAll("[data-i18n-aria]")) setAttr(el, "aria-label", t(el.dataset.i18nAria));
  document.documentElement.lang = t("html_lang");
}

// --- rendering: one function per panel ---------------------------------------------------

function render() {
  if (io.renderedLanguage !== getLanguage()) {
    applyStaticText();
    io.renderedLanguage = getLanguage();
    io.renderedHistory = -1;
  }
  renderHeader();
  renderLogin();
  renderRing();
  renderNotice();
  renderDesk();
  renderCall();
  renderText();
  renderTitle();
}

function renderHeader() {
  const signedIn = state.auth !== null;
  show($("who"), signedIn);
  if (signedIn) setText($("who"), t("signed_in_as", { name: state.auth.name || state.auth.id }));
  show($("logout"), signedIn);
  $("logout").disabled = state.call !== null || state.ring !== null;

  const link = $("link-status");
  show(link, signedIn);
  setAttr(link, "data-phase", state.link.phase);
  setText(link, linkText());
  show($("reconnect"), signedIn && state.linkStopReason === "link_replaced");
  show($("sound-enable"), signedIn && state.soundBlocked);
}

function linkText() {
  switch (state.link.phase) {
    case "up": return t("link_up");
    case "connecting": return t("link_connecting");
    case "stopped": return t(state.linkStopReason || "link_replaced");
    default: {
      const left = state.link.retryAt ? Math.ceil((state.link.retryAt - now()) / 1000) : 0;
      return left > 0 ? t("link_down", { s: left }) : t("link_down_now");
    }
  }
}

function renderLogin() {
  show($("login-panel"), state.auth === null);
  if (state.auth !== null) return;
  const error = $("login-error");
  show(error, state.login.error !== null);
  if (state.login.error) setText(error, t(state.login.error, state.login.errorParams));
  const submit = $("login-submit");
  submit.disabled = state.login.busy;
  setText(submit, t(state.login.busy ? "login_busy" : "login_submit"));
  setAttr($("login-id"), "aria-invalid", String(state.login.error === "login_wrong"));
  setAttr($("login-password"), "aria-invalid", String(state.login.error === "login_wrong"));
}

function renderRing() {
  const ring = state.ring;
  show($("ring-panel"), ring !== null);
  if (!ring) return;
  setText($("ring-location"), ring.location);
  const waited = ring.waited_s + (now() - ring.at) / 1000;
  setText($("ring-waited"), formatDuration(waited));
  setText($("ring-started-by"), t(ring.started_by === "staff" ? "started_by_staff" : "started_by_resident"));
  show($("ring-category-row"), Boolean(ring.category));
  setText($("ring-category"), ring.category || "");

  const timeout = ring.timeout_s ?? state.config.ring_timeout_s;
  show($("ring-timeout"), typeof timeout === "number" && timeout > 0);
  if (typeof timeout === "number" && timeout > 0) {
    const left = Math.max(0, timeout - (now() - ring.at) / 1000);
    setText($("ring-timeout-text"), left >= 0.5 ? t("ring_left", { s: Math.ceil(left) }) : t("ring_moving"));
    $("ring-timeout-bar").style.width = `${Math.round((100 * left) / timeout)}%`;
  }
}

function renderNotice() {
  show($("notice"), state.notice !== null);
  if (state.notice) setText($("notice-text"), t(state.notice.key, state.notice.params));
}

function renderDesk() {
  const visible = state.auth !== null && state.call === null;
  show($("desk-panel"), visible);
  if (!visible) return;
  renderPresence();
  renderMedia();
  renderHistory();
}

const STATUS_ICONS = {
  available: "check", away: "pause", ringing: "bell", in_call: "video", wrap_up: "hourglass", offline: "offline",
};

function shownStatus() {
  if (state.link.phase !== "up") return "offline";
  if (state.status) return state.status.state;
  return state.presenceWanted;
}

function renderPresence() {
  const shown = shownStatus();
  const badge = $("status-badge");
  setAttr(badge, "data-state", shown);
  setAttr($("status-icon"), "href", `#icon-${STATUS_ICONS[shown] || "info"}`);
  setText($("status-text"), t(`status_${shown}`));

  const wrapLeft = wrapUpLeft();
  show($("wrap-up-row"), wrapLeft !== null);
  if (wrapLeft !== null) setText($("status-countdown"), t("wrap_up_left", { time: formatDuration(wrapLeft) }));

  const reason = statusReasonText();
  show($("status-reason"), reason !== null);
  if (reason !== null) setText($("status-reason"), reason);

  const online = state.link.phase === "up";
  for (const button of [$("presence-available"), $("presence-away")]) {
    button.disabled = !online;
    setAttr(button, "aria-pressed", String(online && state.presenceWanted === button.dataset.choice));
  }
}

function wrapUpLeft() {
  const s = state.status;
  if (!s || s.state !== "wrap_up" || typeof s.wrap_up_s !== "number") return null;
  return Math.max(0, Math.ceil(s.wrap_up_s - (now() - state.statusAt) / 1000));
}

function statusReasonText() {
  const s = state.status;
  if (!s || state.link.phase !== "up") return null;
  if (s.state === "away" && s.reason === "missed_rings") {
    return t("status_missed_rings", { n: s.missed_rings || 3 });
  }
  if (s.state === "wrap_up") return t("wrap_up_hint");
  if (s.state === "available" && s.reason === "wrap_up_over" && now() - state.statusAt < 10000) {
    return t("status_wrap_up_over");
  }
  return null;
}

function renderMedia() {
  const text = $("media-text");
  setAttr(text, "data-phase", state.media.phase);
  if (state.media.phase === "failed") {
    setText(text, t("media_failed", { detail: t(state.media.error) }));
  } else {
    setText(text, t({ idle: "media_idle", starting: "media_starting", on: "media_ready" }[state.media.phase]));
  }
  show($("media-retry"), state.media.phase === "failed");
  attachStream($("self-preview"), state.media.phase === "on" ? io.stream : null);
}

function renderHistory() {
  const h = state.history;
  const message = $("history-message");
  const empty = h.phase === "ok" && h.calls.length === 0;
  const text = h.phase === "error" ? t("history_error")
    : h.phase === "loading" && h.calls.length === 0 ? t("history_loading")
    : empty ? t("history_empty") : "";
  setText(message, text);
  show(message, text !== "");
  show($("history-table"), h.calls.length > 0);
  if (io.renderedHistory === h.version) return;
  io.renderedHistory = h.version;
  $("history-rows").replaceChildren(...h.calls.map(historyRow));
}

function historyRow(call) {
  const tr = document.createElement("tr");
  const cells = [
    [call.requested_at ? formatClock(call.requested_at) : t("empty_value"), "num"],
    [call.location || call.kiosk_id || t("empty_value"), ""],
    [callDuration(call), "num"],
    [outcomeText(call), ""],
  ];
  for (const [text, cls] of cells) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.append(td);
  }
  tr.dataset.sessionId = call.session_id || "";
  return tr;
}

function callDuration(call) {
  let s = call.talk_s;
  if (typeof s !== "number" && call.answered_at && call.ended_at) s = call.ended_at - call.answered_at;
  return typeof s === "number" ? formatDuration(s) : t("empty_value");
}

function outcomeText(call) {
  // dispatch's view (declined, missed…), or for an answered call how it ended
  const outcome = call.dispatch_outcome;
  const code = outcome && outcome !== "answered" ? outcome : call.end_reason || outcome;
  if (!code) return t("outcome_unknown");
  return has(`outcome_${code}`) ? t(`outcome_${code}`) : code;
}

function renderCall() {
  const call = state.call;
  show($("call-panel"), call !== null);
  if (!call) {
    attachStream($("remote-video"), null);
    attachStream($("self-video"), null);
    return;
  }
  setText($("call-heading-text"), t("call_heading", { location: call.location }));
  const talk = call.connectedAt ? (now() - call.connectedAt) / 1000 : 0;
  setText($("call-timer"), t("call_timer", { time: formatDuration(talk) }));
  const waiting = call.phase === "connecting" ? t("call_connecting")
    : call.phase === "reconnecting" ? t("call_reconnecting")
    : call.phase === "unstable" ? t("call_unstable")
    : call.hasRemoteVideo ? "" : t("waiting_remote_video");
  setText($("remote-waiting"), waiting);
  show($("remote-waiting"), waiting !== "");
  renderCallLink(call);
  // a quiet note, not an alarm: signing needs at least 20 frames a second
  setText($("call-quality"), call.lowFps ? t("low_fps_warning") : "");
  show($("call-quality"), Boolean(call.lowFps));
  attachStream($("self-video"), state.media.phase === "on" ? io.stream : null);

  const mute = $("mute");
  setAttr(mute, "aria-pressed", String(state.muted));
  setText($("mute-text"), t(state.muted ? "unmute" : "mute"));
  setAttr($("mute-icon"), "href", state.muted ? "#icon-mic-off" : "#icon-mic");
  const camera = $("camera");
  setAttr(camera, "aria-pressed", String(state.cameraOff));
  setText($("camera-text"), t(state.cameraOff ? "camera_start" : "camera_stop"));
  setAttr($("camera-icon"), "href", state.cameraOff ? "#icon-video-off" : "#icon-video");
  mute.disabled = camera.disabled = state.media.phase !== "on";

  const badges = [];
  if (state.media.phase !== "on") badges.push(t("no_media_badge"));
  else {
    if (state.muted) badges.push(t("mic_off_badge"));
    if (state.cameraOff) badges.push(t("camera_off_badge"));
  }
  setText($("self-badges"), badges.join(" · "));
}

/** While the call goes on without dispatch: say so (the call is not over). */
function renderCallLink(call) {
  const panel = $("call-panel");
  panel.classList.toggle("reconnecting", call.phase === "reconnecting");
  const note = state.link.phase === "up" ? "" : t("call_link_down");
  setText($("call-link"), note);
  show($("call-link"), note !== "");
}

function renderTitle() {
  const base = t("app_title");
  const title = state.ring && io.titleFlash ? t("title_ringing", { location: state.ring.location }) : base;
  if (document.title !== title) document.title = title;
}

function attachStream(video, stream) {
  if (video.srcObject !== stream) video.srcObject = stream;
}

// --- notices -----------------------------------------------------------------------------

function notify(key, params = {}) {
  state.notice = { key, params };
}

// --- sign-in and sign-out ----------------------------------------------------------------

async function onLoginSubmit(event) {
  event.preventDefault();
  unlockAudio(); // the click is the user gesture browsers need before any sound
  const id = $("login-id").value.trim();
  const password = $("login-password").value;
  if (!id || !password) {
    setLoginError("login_required");
    return;
  }
  state.login = { busy: true, error: null, errorParams: {} };
  render();
  let response;
  try {
    response = await fetch("/api/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ id, password }),
    });
  } catch {
    setLoginError("login_network");
    return;
  }
  if (response.ok) {
    let body;
    try { body = await response.json(); } catch { body = null; }
    if (!body || typeof body.token !== "string") {
      setLoginError("login_server", { status: response.status });
      return;
    }
    state.login = { busy: false, error: null, errorParams: {} };
    $("login-password").value = "";
    startSession({
      token: body.token, id: body.id || id, name: body.name || body.id || id,
      expiresAt: now() + (body.expires_in || 43200) * 1000,
    });
  } else if (response.status === 401 || response.status === 403) {
    setLoginError("login_wrong");
    $("login-password").select();
  } else if (response.status === 429) {
    setLoginError("login_throttled");
  } else {
    setLoginError("login_server", { status: response.status });
  }
}

function setLoginError(key, params = {}) {
  state.login = { busy: false, error: key, errorParams: params };
  render();
}

function startSession(auth) {
  state.auth = auth;
  state.notice = null;
  try { sessionStorage.setItem(SESSION_KEY, JSON.stringify(auth)); } catch { /* private mode */ }
  loadConfig();
  loadHistory();
  connect();
  render();
  $("presence-heading").focus();
}

function restoreSession() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
    if (saved && saved.token && saved.expiresAt > now()) return saved;
  } catch { /* ignore a damaged entry */ }
  return null;
}

async function logout() {
  const token = state.auth && state.auth.token;
  endSession(null);
  if (token) {
    try {
      await fetch("/api/logout", { method: "POST", headers: { Authorization: `Bearer ${token}` } });
    } catch { /* the token expires by itself */ }
  }
}

/** Back to the sign-in form; `reason` is an i18n key shown there (or null). */
function endSession(reason) {
  if (state.call) endCall(null);
  clearRing(null);
  disconnect();
  stopMedia();
  try { sessionStorage.removeItem(SESSION_KEY); } catch { /* ignore */ }
  clearTimeout(io.historyTimer);
  Object.assign(state, {
    auth: null, status: null, presenceWanted: "away", notice: null, linkStopReason: null,
    link: { phase: "down", retryAt: null, attempt: 0 },
    history: { calls: [], phase: "idle", version: state.history.version + 1 },
    login: { busy: false, error: reason, errorParams: {} },
  });
  render();
  $("login-id").focus();
}

// --- REST --------------------------------------------------------------------------------

async function loadConfig() {
  if (!state.auth) return;
  try {
    // after login only: the ICE servers carry TURN credentials
    const response = await fetch("/api/config", { headers: { Authorization: `Bearer ${state.auth.token}` } });
    if (response.ok) state.config = { ...state.config, ...(await response.json()) };
  } catch { /* keep the defaults: host candidates only */ }
}

async function loadHistory() {
  if (!state.auth) return;
  const token = state.auth.token;
  state.history.phase = "loading";
  render();
  try {
    const response = await fetch("/api/history", { headers: { Authorization: `Bearer ${token}` } });
    if (!state.auth || state.auth.token !== token) return;
    if (response.status === 401) {
      endSession("login_expired");
      return;
    }
    if (!response.ok) throw new Error(String(response.status));
    const body = await response.json();
    state.history = { calls: body.calls || [], phase: "ok", version: state.history.version + 1 };
  } catch {
    if (state.auth && state.auth.token === token) state.history.phase = "error";
  }
  render();
}

function refreshHistorySoon() {
  loadHistory();
  clearTimeout(io.historyTimer);
  io.historyTimer = setTimeout(loadHistory, HISTORY_RECHECK_MS); // the kiosk's record may come later
}

// --- the WebSocket to dispatch -----------------------------------------------------------

function connect() {
  if (!state.auth) return;
  clearTimeout(io.reconnectTimer);
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${scheme}//${location.host}/ws`);
  io.ws = ws;
  state.link = { ...state.link, phase: "connecting", retryAt: null };
  state.linkStopReason = null;
  ws.addEventListener("open", () => {
    if (ws !== io.ws || !state.auth) return;
    ws.send(JSON.stringify({
      type: "hello", role: "interpreter", id: state.auth.id, credential: state.auth.token,
      protocol: PROTOCOL_VERSION,
    }));
  });
  ws.addEventListener("message", (event) => {
    if (ws !== io.ws) return;
    let msg;
    try { msg = JSON.parse(event.data); } catch { return; }
    if (msg && typeof msg.type === "string") onMessage(msg);
  });
  ws.addEventListener("close", () => {
    if (ws === io.ws) onLinkLost();
  });
  render();
}

function disconnect() {
  clearTimeout(io.reconnectTimer);
  const ws = io.ws;
  io.ws = null;
  if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000);
}

function send(msg) {
  const ws = io.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN || state.link.phase !== "up") return false;
  ws.send(JSON.stringify(msg));
  return true;
}

function onLinkLost() {
  io.ws = null;
  // dispatch forgets a vanished interpreter's ring; an answered call goes on peer to peer and
  // is resumed after the next welcome (dispatch keeps it for a grace period)
  if (state.call && !callSurvivesLinkLoss(state.call)) endCall("ended_link_lost");
  if (state.ring) clearRing("ring_link_lost");
  state.status = null;
  if (!state.auth) return;
  if (state.linkStopReason) {
    state.link = { ...state.link, phase: "stopped", retryAt: null };
    render();
    return;
  }
  const attempt = state.link.attempt;
  const delay = RECONNECT_DELAYS_S[Math.min(attempt, RECONNECT_DELAYS_S.length - 1)];
  const jittered = delay * 1000 * (0.7 + 0.6 * Math.random());
  state.link = { phase: "down", retryAt: now() + jittered, attempt: attempt + 1 };
  io.reconnectTimer = setTimeout(connect, jittered);
  render();
}

function onMessage(msg) {
  switch (msg.type) {
    case "welcome": onWelcome(); break;
    case "status": onStatus(msg); break;
    case "ring": onRing(msg); break;
    case "call_ended": onCallEnded(msg); break;
    case "offer": onOffer(msg); break;
    case "ice": onRemoteIce(msg); break;
    case "resumed": break; // dispatch knows the call again: nothing changes on screen
    case "error": onError(msg); break;
    default: break; // a newer dispatch may send more; ignore what this page does not know
  }
  render();
}

function onWelcome() {
  state.link = { phase: "up", retryAt: null, attempt: 0 };
  resumeCall();
  // after a dropped link, tell dispatch again what the interpreter had chosen
  if (state.presenceWanted === "available") send({ type: "presence", state: "available" });
}

function onStatus(msg) {
  const previous = state.status ? state.status.state : null;
  state.status = msg;
  state.statusAt = now();
  if (msg.state === "available" || msg.state === "away") state.presenceWanted = msg.state;
  if (msg.state === "available" && state.media.phase === "idle") startMedia();
  // dispatch set the interpreter away (missed rings): the camera goes off as for a break
  if (msg.state === "away" && msg.reason === "missed_rings" && state.call === null) stopMedia();
  if (previous === "wrap_up" && msg.state !== "wrap_up") refreshHistorySoon();
}

function onError(msg) {
  switch (msg.code) {
    case "unauthenticated":
      endSession("login_expired");
      return;
    case "already_connected":
    case "unsupported_protocol":
      state.linkStopReason = msg.code === "already_connected" ? "link_replaced" : "link_outdated";
      return; // dispatch closes the socket; onLinkLost does not reconnect
    default:
      break;
  }
  if (msg.session_id && state.call && msg.session_id === state.call.session_id && msg.ref_type === "resume") {
    endCall("ended_link_lost"); // dispatch no longer has this call for us
  } else if (msg.session_id && state.ring && msg.session_id === state.ring.session_id) {
    clearRing("ring_withdrawn");
  } else if (msg.session_id && state.call && msg.session_id === state.call.session_id && msg.ref_type === "accept") {
    endCall("ring_withdrawn");
  } else {
    const key = `error_${msg.code}`;
    notify(has(key) ? key : "error_other");
  }
}

// --- presence ----------------------------------------------------------------------------

function choosePresence(choice) {
  unlockAudio();
  if (!send({ type: "presence", state: choice })) {
    notify("not_connected");
    render();
    return;
  }
  state.presenceWanted = choice;
  if (choice === "available") startMedia();
  else if (state.call === null && state.ring === null) stopMedia();
  render();
}

// --- ringing -----------------------------------------------------------------------------

function onRing(msg) {
  if (state.call) return; // dispatch rings only free interpreters; never replace a call
  state.ring = { ...msg, at: now() };
  state.notice = null;
  startAlert();
  render();
  $("accept").focus();
}

function accept() {
  const ring = state.ring;
  if (!ring) return;
  unlockAudio();
  if (!send({ type: "accept", session_id: ring.session_id })) {
    notify("not_connected");
    render();
    return;
  }
  clearRing(null);
  state.call = {
    session_id: ring.session_id, location: ring.location, kiosk_id: ring.kiosk_id,
    phase: "connecting", acceptedAt: now(), connectedAt: null, answerSent: false, hasRemoteVideo: false,
    localIce: [], remoteIce: [], remoteSet: false, attempt: -1, mediaPc: undefined, mediaSeen: 0, mediaAt: null,
  };
  startMedia();
  render();
  $("call-heading").focus();
}

function decline() {
  const ring = state.ring;
  if (!ring) return;
  send({ type: "decline", session_id: ring.session_id });
  clearRing("declined_notice");
  render();
  $("presence-heading").focus();
}

function clearRing(noticeKey) {
  if (!state.ring) return;
  state.ring = null;
  stopAlert();
  if (noticeKey) notify(noticeKey);
}

function onCallEnded(msg) {
  if (state.ring && msg.session_id === state.ring.session_id) {
    const key = { cancelled: "ring_cancelled", ring_timeout: "ring_timed_out" }[msg.reason] || "ring_withdrawn";
    clearRing(key);
    return;
  }
  if (state.call && msg.session_id === state.call.session_id) {
    const key = { peer_gone: "ended_peer_gone", network_lost: "ended_network_lost" }[msg.reason];
    endCall(key || "ended_by_kiosk");
  }
}

// --- the alert: sound, flashing title ----------------------------------------------------

function unlockAudio() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  try {
    if (!io.audio) io.audio = new Context();
    if (io.audio.state === "suspended") io.audio.resume().then(updateSoundBlocked, () => {});
  } catch { /* no audio output: the visual alert still works */ }
  updateSoundBlocked();
}

function updateSoundBlocked() {
  const blocked = state.ring !== null && (!io.audio || io.audio.state !== "running");
  if (blocked !== state.soundBlocked) {
    state.soundBlocked = blocked;
    render();
  }
}

function startAlert() {
  stopAlert();
  startRingSound();
  io.titleFlash = true;
  io.titleTimer = setInterval(() => {
    io.titleFlash = !io.titleFlash;
    renderTitle();
  }, 1000);
}

function stopAlert() {
  stopRingSound();
  clearInterval(io.titleTimer);
  io.titleTimer = null;
  io.titleFlash = false;
  state.soundBlocked = false;
  renderTitle();
}

function startRingSound() {
  const ctx = io.audio;
  updateSoundBlocked();
  if (!ctx) return;
  io.ringBus = ctx.createGain();
  io.ringBus.gain.value = 0.8;
  io.ringBus.connect(ctx.destination);
  playRingBurst();
  io.ringTimer = setInterval(playRingBurst, 1600);
}

function playRingBurst() {
  const ctx = io.audio;
  updateSoundBlocked();
  if (!ctx || !io.ringBus || ctx.state !== "running") return;
  // three rising notes, twice: urgent but not harsh
  const start = ctx.currentTime + 0.02;
  const notes = [659, 880, 1175, 659, 880, 1175];
  notes.forEach((hz, i) => {
    const at = start + i * 0.16 + (i >= 3 ? 0.12 : 0);
    const osc = ctx.createOscillator();
    const env = ctx.createGain();
    osc.type = "triangle";
    osc.frequency.value = hz;
    env.gain.setValueAtTime(0, at);
    env.gain.linearRampToValueAtTime(0.35, at + 0.015);
    env.gain.setValueAtTime(0.35, at + 0.1);
    env.gain.linearRampToValueAtTime(0, at + 0.14);
    osc.connect(env).connect(io.ringBus);
    osc.start(at);
    osc.stop(at + 0.15);
  });
}

function stopRingSound() {
  clearInterval(io.ringTimer);
  io.ringTimer = null;
  if (io.ringBus) {
    io.ringBus.disconnect(); // silences notes already scheduled
    io.ringBus = null;
  }
}

// --- own camera and microphone -----------------------------------------------------------

function startMedia() {
  if (state.media.phase === "on") return Promise.resolve(io.stream);
  if (state.media.phase === "starting") return io.mediaPromise;
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    state.media = { phase: "failed", error: "media_err_insecure" };
    return Promise.resolve(null);
  }
  state.media = { phase: "starting", error: null };
  io.mediaPromise = navigator.mediaDevices.getUserMedia(CAMERA_CONSTRAINTS).then(
    (stream) => {
      if (state.media.phase !== "starting") { // stopped meanwhile
        stream.getTracks().forEach((track) => track.stop());
        return null;
      }
      io.stream = stream;
      state.media = { phase: "on", error: null };
      applyTrackSwitches();
      render();
      return stream;
    },
    (error) => {
      state.media = { phase: "failed", error: mediaErrorKey(error) };
      render();
      return null;
    },
  );
  render();
  return io.mediaPromise;
}

function mediaErrorKey(error) {
  switch (error && error.name) {
    case "NotAllowedError": case "SecurityError": return "media_err_denied";
    case "NotFoundError": case "OverconstrainedError": return "media_err_missing";
    case "NotReadableError": case "AbortError": return "media_err_busy";
    default: return "media_err_other";
  }
}

function stopMedia() {
  if (io.stream) io.stream.getTracks().forEach((track) => track.stop());
  io.stream = null;
  io.mediaPromise = null;
  state.media = { phase: "idle", error: null };
}

function applyTrackSwitches() {
  if (!io.stream) return;
  for (const track of io.stream.getAudioTracks()) track.enabled = !state.muted;
  for (const track of io.stream.getVideoTracks()) track.enabled = !state.cameraOff;
}

function toggleMute() {
  state.muted = !state.muted;
  applyTrackSwitches();
  render();
}

function toggleCamera() {
  state.cameraOff = !state.cameraOff;
  applyTrackSwitches();
  render();
}

// --- the call: WebRTC answer to the kiosk's offer -----------------------------------------

async function onOffer(msg) {
  const call = state.call;
  const attempt = msg.attempt || 0;
  if (!call || msg.session_id !== call.session_id || attempt <= call.attempt) return;
  call.attempt = attempt;
  if (io.pc) replacePeerConnection(call); // the kiosk starts over after the media stopped
  const stream = await withTimeout(startMedia(), MEDIA_WAIT_AT_OFFER_MS);
  if (state.call !== call || call.attempt !== attempt) return;
  const pc = makePeerConnection(call);
  try {
    await pc.setRemoteDescription({ type: "offer", sdp: msg.sdp });
    call.remoteSet = true;
    for (const ice of call.remoteIce.splice(0)) await addRemoteIce(pc, ice);
    // the kiosk offers audio and video send/receive; our tracks fill those transceivers
    if (stream) for (const track of stream.getTracks()) pc.addTrack(track, stream);
    await pc.setLocalDescription(await pc.createAnswer());
    await iceGatheringDone(pc, ICE_GATHERING_MAX_MS);
  } catch (error) {
    console.error("cannot answer the offer", error);
    if (io.pc === pc) failCall("ended_media_failed");
    return;
  }
  if (state.call !== call || io.pc !== pc) return;
  send({ type: "answer", session_id: call.session_id, sdp: pc.localDescription.sdp, attempt });
  call.answerSent = true;
  flushLocalIce(call);
}

/** The one place the call's RTCPeerConnection is built (first offer and every new attempt). */
function makePeerConnection(call) {
  const pc = new RTCPeerConnection({ iceServers: iceServers(), bundlePolicy: "max-bundle" });
  io.pc = pc;
  pc.addEventListener("track", (event) => onRemoteTrack(call, event));
  pc.addEventListener("icecandidate", (event) => onLocalIce(call, event.candidate));
  pc.addEventListener("connectionstatechange", () => onPeerState(call, pc));
  pc.addEventListener("datachannel", (event) => onTextChannel(call, event.channel));
  return pc;
}

// --- reconnecting: the media stopped, or the link to dispatch dropped ----------------------

/** A new offer for the same call: close the old connection, start the ICE bookkeeping again. */
function replacePeerConnection(call) {
  const old = io.pc;
  io.pc = null;
  if (old) old.close();
  Object.assign(call, { remoteSet: false, answerSent: false, localIce: [], remoteIce: [] });
  if (call.phase !== "connecting") call.phase = "reconnecting";
}

/** Called every second during a call with fresh stats: no new frame or packet from the kiosk
 *  for MEDIA_WATCHDOG_S seconds is "reconnecting"; for MEDIA_GIVE_UP_S the call is over. */
function watchMedia(call, s) {
  const t = now();
  const seen = s.framesDecoded + s.audioPacketsReceived; // grows while media arrives (per connection)
  if (call.mediaPc !== io.pc) { // a new connection counts from zero: take a new baseline
    call.mediaPc = io.pc;
    call.mediaSeen = seen;
    if (call.mediaAt === null) call.mediaAt = t;
    return;
  }
  if (seen > call.mediaSeen) {
    call.mediaSeen = seen;
    call.mediaAt = t;
    if (call.phase === "reconnecting") call.phase = "connected";
    render();
    return;
  }
  const silent = (t - call.mediaAt) / 1000;
  if (silent >= MEDIA_GIVE_UP_S) {
    failCall("ended_network_lost");
  } else if (silent >= MEDIA_WATCHDOG_S && call.phase !== "reconnecting") {
    call.phase = "reconnecting";
    render();
  }
}

function callSurvivesLinkLoss(call) {
  return call.connectedAt !== null || call.answerSent;
}

function resumeCall() {
  const call = state.call;
  if (call) send({ type: "resume", session_id: call.session_id, peer_id: call.kiosk_id });
}

function iceServers() {
  return (state.config.ice_servers || []).map((server) => {
    const out = { urls: server.urls };
    if (typeof server.username === "string") out.username = server.username;
    if (typeof server.credential === "string") out.credential = server.credential;
    return out;
  });
}

function iceGatheringDone(pc, maxMs) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    };
    const check = () => { if (pc.iceGatheringState === "complete") done(); };
    const timer = setTimeout(done, maxMs);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

function withTimeout(promise, ms) {
  return Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve(null), ms))]);
}

// Every local candidate is also trickled after the answer, even those already in its SDP: in
// a BUNDLE answer Chromium lists candidates only in the first m-section, and aiortc (the
// kiosk) reads the candidates of a shared transport from the last m-section only, so without
// these it would see none. Duplicates are ignored by the kiosk's ICE agent.
function onLocalIce(call, candidate) {
  if (state.call !== call || !io.pc) return;
  call.localIce.push(candidate);
  if (call.answerSent) flushLocalIce(call);
}

function flushLocalIce(call) {
  for (const candidate of call.localIce.splice(0)) {
    send({
      type: "ice", session_id: call.session_id, attempt: Math.max(0, call.attempt),
      candidate: candidate ? candidate.candidate : null, // null: end of candidates
      sdp_mid: candidate ? candidate.sdpMid : null,
      sdp_mline_index: candidate ? candidate.sdpMLineIndex : null,
    });
  }
}

function onRemoteIce(msg) {
  const call = state.call;
  if (!call || msg.session_id !== call.session_id || (msg.attempt || 0) < call.attempt) return;
  if (!io.pc || !call.remoteSet) call.remoteIce.push(msg); // before the offer is applied
  else addRemoteIce(io.pc, msg);
}

async function addRemoteIce(pc, msg) {
  try {
    if (!msg.candidate) {
      await pc.addIceCandidate(null);
      return;
    }
    const text = msg.candidate.startsWith("candidate:") ? msg.candidate : `candidate:${msg.candidate}`;
    const hasIndex = msg.sdp_mid !== null || msg.sdp_mline_index !== null;
    await pc.addIceCandidate({
      candidate: text, sdpMid: msg.sdp_mid, sdpMLineIndex: hasIndex ? msg.sdp_mline_index : 0,
    });
  } catch (error) {
    console.warn("ignored a remote ICE candidate", error);
  }
}

function onRemoteTrack(call, event) {
  if (state.call !== call) return;
  const video = $("remote-video");
  const stream = event.streams[0] || video.srcObject || new MediaStream();
  if (!stream.getTracks().includes(event.track)) stream.addTrack(event.track);
  attachStream(video, stream);
  video.play().catch(() => {}); // the Accept click allows sound
  if (event.track.kind === "video") call.hasRemoteVideo = true;
  render();
}

function onPeerState(call, pc) {
  if (state.call !== call || io.pc !== pc) return;
  switch (pc.connectionState) {
    case "connected":
      if (call.phase !== "reconnecting") call.phase = "connected"; // media decides (watchMedia)
      if (!call.connectedAt) call.connectedAt = now();
      if (!io.fpsTimer) io.fpsTimer = setInterval(() => checkFrameRate(call), 1000);
      break;
    case "disconnected":
      if (call.phase === "connected") call.phase = "unstable";
      break;
    case "failed":
      // a call that had media waits for the kiosk's fresh offer; one that never had fails
      if (call.connectedAt) call.phase = "reconnecting";
      else failCall("ended_media_failed");
      break;
    default:
      break;
  }
  render();
}

const MIN_SIGNING_FPS = 20;
const LOW_FPS_SECONDS = 3;

/** Frames decoded (from the resident) and encoded (to the resident) in the last second; a
 *  direction under MIN_SIGNING_FPS for LOW_FPS_SECONDS seconds in a row sets `lowFps`. */
async function checkFrameRate(call) {
  if (state.call !== call) return;
  const s = await stats();
  if (state.call !== call) return;
  watchMedia(call, s);
  const t = performance.now() / 1000;
  const last = io.fpsLast;
  io.fpsLast = { t, decoded: s.framesDecoded, encoded: s.framesEncoded };
  if (!last) return;
  const dt = Math.max(0.001, t - last.t);
  const fpsIn = (s.framesDecoded - last.decoded) / dt;
  const fpsOut = (s.framesEncoded - last.encoded) / dt;
  // with the camera off there is nothing to send: only the resident's picture counts then
  const low = fpsIn < MIN_SIGNING_FPS || (!state.cameraOff && fpsOut < MIN_SIGNING_FPS);
  call.lowFpsSeconds = low ? (call.lowFpsSeconds || 0) + 1 : 0;
  call.fps = { in: Math.round(fpsIn * 10) / 10, out: Math.round(fpsOut * 10) / 10 };
  const wasLow = Boolean(call.lowFps);
  call.lowFps = call.lowFpsSeconds >= LOW_FPS_SECONDS;
  if (call.lowFps !== wasLow) render();
}

function failCall(noticeKey) {
  const call = state.call;
  if (!call) return;
  send({ type: "hangup", session_id: call.session_id, reason: "network_lost" });
  endCall(noticeKey);
  render();
}

function hangUp() {
  const call = state.call;
  if (!call) return;
  send({ type: "hangup", session_id: call.session_id, reason: "completed" });
  endCall("ended_by_me");
  render();
}

/** Close the media of the current call and go back to the desk; `noticeKey` says why. */
function endCall(noticeKey) {
  const pc = io.pc;
  io.pc = null;
  clearInterval(io.fpsTimer);
  io.fpsTimer = null;
  io.fpsLast = null;
  if (pc) pc.close();
  clearText();
  const remote = $("remote-video");
  remote.pause();
  attachStream(remote, null);
  state.call = null;
  state.muted = false;
  state.cameraOff = false;
  applyTrackSwitches();
  if (noticeKey) notify(noticeKey);
  if (state.presenceWanted === "away") stopMedia();
  refreshHistorySoon();
  requestAnimationFrame(() => { if (state.auth && !state.ring) $("presence-heading").focus(); });
}

// --- real-time text with the resident (T.140 over the kiosk's "t140" data channel) -------

const rtt = {
  sender: new T140Sender(),
  receiver: new T140Receiver(),
  channel: null,
  typed: "", // what the text box held when it was last sent
  composing: false, // an input method (e.g. Pinyin) is composing: wait for its result
};

function onTextChannel(call, channel) {
  if (state.call !== call || channel.protocol !== T140_PROTOCOL) return;
  rtt.channel = channel;
  rtt.sender.attach(channel);
  channel.addEventListener("message", (event) => {
    if (rtt.channel !== channel) return;
    rtt.receiver.feed(typeof event.data === "string" ? event.data : new TextDecoder().decode(event.data));
    renderText();
  });
  channel.addEventListener("open", renderText);
  channel.addEventListener("close", renderText);
  renderText();
}

/** The interpreter typed or erased: the change at the end of the box goes out as T.140. */
function onTextInput(event) {
  if (event.isComposing || rtt.composing) return;
  const value = $("text-local").value;
  const change = textChange(rtt.typed, value);
  rtt.typed = value;
  if (!state.call) return;
  if (change.erase) rtt.sender.erase(change.erase);
  if (change.add) rtt.sender.add(change.add);
}

/** The call ended: nothing of the text stays on the screen or in memory. */
function clearText() {
  rtt.sender.reset();
  rtt.receiver.reset();
  rtt.channel = null;
  rtt.typed = "";
  rtt.composing = false;
  $("text-local").value = "";
  $("text-remote").textContent = "";
  setText($("text-status"), "");
}

function renderText() {
  if (!state.call) return;
  const remote = $("text-remote");
  const text = rtt.receiver.text;
  if (remote.textContent !== text) {
    remote.textContent = text;
    remote.scrollTop = remote.scrollHeight;
  }
  const open = rtt.channel !== null && rtt.channel.readyState === "open";
  const status = open ? ""
    : rtt.channel === null && state.call.phase === "connected" ? t("text_unavailable") : t("text_waiting");
  setText($("text-status"), status);
}

function wireText() {
  const box = $("text-local");
  box.addEventListener("compositionstart", () => { rtt.composing = true; });
  box.addEventListener("compositionend", (event) => { rtt.composing = false; onTextInput(event); });
  box.addEventListener("input", onTextInput);
}

// --- read-only hooks for tests -----------------------------------------------------------

function snapshot() {
  return JSON.parse(JSON.stringify({
    ...state,
    auth: state.auth ? { id: state.auth.id, name: state.auth.name } : null,
    ringSound: io.ringTimer !== null,
    titleFlashing: io.titleTimer !== null,
    hasLocalStream: io.stream !== null,
    audioState: io.audio ? io.audio.state : null,
  }));
}

async function stats() {
  const out = { framesDecoded: 0, framesSent: 0, framesEncoded: 0, bytesReceived: 0, audioPacketsReceived: 0 };
  const pc = io.pc;
  if (!pc) return out;
  const report = await pc.getStats();
  report.forEach((s) => {
    if (s.type === "inbound-rtp") {
      out.bytesReceived += s.bytesReceived || 0;
      if (s.kind === "video") out.framesDecoded += s.framesDecoded || 0;
      if (s.kind === "audio") out.audioPacketsReceived += s.packetsReceived || 0;
    } else if (s.type === "outbound-rtp" && s.kind === "video") {
      out.framesEncoded += s.framesEncoded || 0;
      out.framesSent += s.framesSent || s.framesEncoded || 0;
    }
  });
  return out;
}

window.consoleDebug = Object.freeze({
  get pc() { return io.pc; },
  get state() { return snapshot(); },
  get text() { return { sent: rtt.sender.sent, received: rtt.receiver.received, open: rtt.channel?.readyState === "open" }; },
  stats,
});

// --- wiring ------------------------------------------------------------------------------

function toggleLanguage() {
  const next = getLanguage() === "zh" ? "en" : "zh";
  setLanguage(next);
  try { localStorage.setItem(LANGUAGE_KEY, next); } catch { /* ignore */ }
  render();
}

function reconnectHere() {
  state.linkStopReason = null;
  state.link.attempt = 0;
  connect();
}

function wire() {
  $("login-form").addEventListener("submit", onLoginSubmit);
  $("logout").addEventListener("click", logout);
  $("lang-toggle").addEventListener("click", toggleLanguage);
  $("reconnect").addEventListener("click", reconnectHere);
  $("sound-enable").addEventListener("click", unlockAudio);
  $("presence-available").addEventListener("click", () => choosePresence("available"));
  $("presence-away").addEventListener("click", () => choosePresence("away"));
  $("wrap-up-ready").addEventListener("click", () => choosePresence("available")); // ends wrap-up early
  $("media-retry").addEventListener("click", () => { stopMedia(); startMedia(); render(); });
  $("history-refresh").addEventListener("click", loadHistory);
  $("accept").addEventListener("click", accept);
  $("decline").addEventListener("click", decline);
  $("mute").addEventListener("click", toggleMute);
  $("camera").addEventListener("click", toggleCamera);
  $("hangup").addEventListener("click", hangUp);
  $("notice-dismiss").addEventListener("click", () => { state.notice = null; render(); });
  // any click or key may unlock sound (after a reload there was no sign-in click)
  document.addEventListener("pointerdown", unlockAudio, { capture: true });
  document.addEventListener("keydown", unlockAudio, { capture: true });
  window.addEventListener("online", () => {
    if (state.auth && state.link.phase === "down") connect();
  });
  window.addEventListener("beforeunload", () => disconnect());
  setInterval(render, TICK_MS); // counters: waited, time left, call time, wrap-up
  wireText();
}

function start() {
  let lang = DEFAULT_LANGUAGE;
  try { lang = localStorage.getItem(LANGUAGE_KEY) || DEFAULT_LANGUAGE; } catch { /* ignore */ }
  setLanguage(lang);
  wire();
  const saved = restoreSession();
  if (saved) startSession(saved);
  else {
    render();
    $("login-id").focus();
  }
}

start();
