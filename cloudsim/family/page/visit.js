// The family's side of a remote visit: the browser's own WebRTC, signalled through the
// simulator's gateway (a WebSocket), the kiosk at the other end. Two languages.
"use strict";

const WORDS = {
  en: {
    other: "Español", title: "Video visit with {name}", camera: "Allow the camera and microphone to start.",
    waiting: "Waiting for {name} to join…", connecting: "Connecting…", live: "",
    reconnecting: "The connection was lost. Reconnecting…", ended: "The visit has ended.",
    schedule: "Your visit time is over.", command: "The facility ended the visit.",
    hangup: "{name} hung up. The visit has ended.",
    fault: "The visit ended because of a technical problem at the facility.",
    left: "Time left: {time}", begins: "Your visit begins at {time}.", five: "5 minutes left in your visit.", one: "1 minute left in your visit.",
    private: "This is a privileged visit: it is not recorded or monitored.",
    monitored: "This visit may be recorded and monitored.", hangUp: "Hang up",
    noCamera: "The camera or microphone could not be used: {error}",
  },
  es: {
    other: "English", title: "Visita por video con {name}", camera: "Permita la cámara y el micrófono para empezar.",
    waiting: "Esperando a que {name} se una…", connecting: "Conectando…", live: "",
    reconnecting: "Se perdió la conexión. Reconectando…", ended: "La visita ha terminado.",
    schedule: "Se acabó el tiempo de su visita.", command: "El centro terminó la visita.",
    hangup: "{name} colgó. La visita ha terminado.",
    fault: "La visita terminó por un problema técnico en el centro.",
    left: "Tiempo restante: {time}", begins: "Su visita empieza a las {time}.", five: "Le quedan 5 minutos de visita.", one: "Le queda 1 minuto de visita.",
    private: "Esta es una visita privilegiada: no se graba ni se supervisa.",
    monitored: "Esta visita puede ser grabada y supervisada.", hangUp: "Colgar",
    noCamera: "No se pudo usar la cámara o el micrófono: {error}",
  },
};

const state = {
  language: (navigator.language || "en").startsWith("es") ? "es" : "en",
  visit: null, phase: "camera", pc: null, local: null, socket: null, ended: false,
  endReason: "", error: "", media: { packets: 0, at: 0 }, skew: 0, endTimer: null,
  shown: [],  // every status and warning line as it first appeared: {at, id, text}
};
// As the kiosk says it: no media at all for this long means the call is lost.
const MEDIA_LOST_MS = 2000;
// The kiosk's reasons for a `bye` that have words of their own.
const END_REASONS = ["schedule", "command", "hangup", "fault"];
const $ = (id) => document.getElementById(id);
const say = (key, fields = {}) =>
  WORDS[state.language][key].replace(/\{(\w+)\}/g, (_, name) => fields[name] ?? "");

function render() {
  const name = state.visit ? state.visit.resident : "";
  document.documentElement.lang = state.language;
  $("language").textContent = say("other");
  $("title").textContent = name ? say("title", { name }) : "";
  $("hang-up").textContent = say("hangUp");
  $("hang-up").hidden = state.ended;
  const status = { camera: "camera", waiting: "waiting", connecting: "connecting", live: "live",
                   reconnecting: "reconnecting", ended: "ended" }[state.phase];
  const ended = END_REASONS.includes(state.endReason) ? state.endReason : "ended";
  show("status", state.error ? say("noCamera", { error: state.error })
    : say(state.phase === "ended" ? ended : status, { name }));
  if (state.visit) {
    $("privacy").textContent = say(state.visit.privileged ? "private" : "monitored");
  }
  const left = state.visit && !state.ended ? untilEnd() : 0;
  const starts = state.visit ? new Date(state.visit.starts_at) : null;
  if (left > 0 && starts - (Date.now() + state.skew) > 0) {
    // Shown in the family's own time zone, by their browser.
    const time = starts.toLocaleTimeString(state.language, { hour: "numeric", minute: "2-digit" });
    $("time-left").textContent = say("begins", { time });
  } else {
    $("time-left").textContent = left > 0 ? say("left", { time: clock(left) }) : "";
  }
  show("warning", left > 0 && left <= 60000 ? say("one")
    : left > 0 && left <= 300000 ? say("five") : "");
}

function show(id, text) {
  if ($(id).textContent === text) return;
  $(id).textContent = text;
  if (text) state.shown.push({ at: Date.now(), id, text });
}

// Whether media still arrives (the kiosk's rule too): a lost line shows at once, a silent
// connection state or not; a new packet after it brings the visit back.
async function watchMedia() {
  const pc = state.pc;
  if (!pc || state.ended || !["live", "reconnecting"].includes(state.phase)) return;
  let packets = 0;
  (await pc.getStats()).forEach((r) => {
    if (r.type === "inbound-rtp") packets += r.packetsReceived || 0;
  });
  if (pc !== state.pc || state.ended) return;
  const now = Date.now();
  if (packets !== state.media.packets) {
    state.media = { packets, at: now };
    if (state.phase === "reconnecting" && pc.connectionState === "connected") state.phase = "live";
  } else if (state.phase === "live" && now - state.media.at > MEDIA_LOST_MS) {
    state.phase = "reconnecting";
  }
  render();
}

// Milliseconds left until the visit's end, by the facility's clock.
function untilEnd() {
  return new Date(state.visit.ends_at) - (Date.now() + state.skew);
}

// The visit ends at its time whatever the network does: the kiosk ends it then too.
function timeIsUp() {
  if (state.ended) return;
  if (untilEnd() > 0) {
    state.endTimer = setTimeout(timeIsUp, untilEnd());
    return;
  }
  state.endReason = "schedule";
  end();
  render();
}

function clock(ms) {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

async function start() {
  try {
    state.local = await navigator.mediaDevices.getUserMedia({
      video: { width: 640, height: 480 }, audio: true });
    $("self").srcObject = state.local;
  } catch (error) {
    state.error = String(error.name || error);
    render();
    return;
  }
  connect();
}

function connect() {
  const url = new URL(location.href);
  const socketUrl = `ws://${url.host}${url.pathname}/ws${url.search}`;
  const socket = new WebSocket(socketUrl);
  state.socket = socket;
  socket.onmessage = (event) => heard(JSON.parse(event.data));
  socket.onopen = () => socket.send(JSON.stringify({ kind: "ready" }));
}

async function heard(said) {
  if (said.kind === "visit") {
    state.visit = said;
    state.skew = said.now_ms - Date.now();  // the facility's clock keeps the time, not ours
    if (!state.ended) state.phase = "waiting";
    clearTimeout(state.endTimer);
    state.endTimer = setTimeout(timeIsUp, Math.max(0, untilEnd()));
  } else if (said.kind === "offer") {
    await answer(said.sdp);
  } else if (said.kind === "bye" && !state.ended) {
    state.endReason = said.reason || "";
    end();
  }
  render();
}

async function answer(sdp) {
  if (state.pc) state.pc.close();  // a new offer: a fresh connection (a reconnect)
  const pc = new RTCPeerConnection({
    iceServers: state.visit.ice_servers || [],
    iceTransportPolicy: state.visit.relay_only ? "relay" : "all",
  });
  state.pc = pc;
  state.phase = "connecting";
  for (const track of state.local.getTracks()) pc.addTrack(track, state.local);
  pc.ontrack = (event) => {
    if (event.track.kind === "video") $("remote").srcObject = event.streams[0] || new MediaStream([event.track]);
    else if (!$("remote").srcObject) $("remote").srcObject = new MediaStream([event.track]);
  };
  pc.onconnectionstatechange = () => {
    if (pc !== state.pc || state.ended) return;
    if (pc.connectionState === "connected") {
      state.phase = "live";
      state.media = { packets: state.media.packets, at: Date.now() };
    }
    else if (pc.connectionState === "failed" || pc.connectionState === "disconnected") state.phase = "reconnecting";
    render();
  };
  await pc.setRemoteDescription({ type: "offer", sdp });
  await pc.setLocalDescription(await pc.createAnswer());
  await gathered(pc);
  state.socket.send(JSON.stringify({ kind: "answer", sdp: pc.localDescription.sdp }));
}

function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") resolve();
    });
  });
}

function end() {
  state.ended = true;
  state.phase = "ended";
  if (state.pc) state.pc.close();
  $("remote").srcObject = null;
  if (state.local) state.local.getTracks().forEach((track) => track.stop());
  $("self").srcObject = null;
}

$("hang-up").onclick = () => {
  if (state.socket) state.socket.send(JSON.stringify({ kind: "bye" }));
  end();
  render();
};
$("language").onclick = () => { state.language = state.language === "en" ? "es" : "en"; render(); };
setInterval(render, 500);
setInterval(watchMedia, 250);
render();
start();
