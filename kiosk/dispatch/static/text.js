// Real-time text with the kiosk: T.140 over the WebRTC data channel the kiosk opens with the
// subprotocol "t140" (RFC 8865), the same rules as kiosk/call/rtt.py:
// - characters go out as they are typed, at most every 300 ms (one message per interval);
// - an erasure is BACKSPACE (U+0008), a new line LINE SEPARATOR (U+2028);
// - a BOM (U+FEFF) opens the stream and may come as a keep-alive: dropped on receipt; CR LF, CR
//   and LF are taken as new lines too; other control characters and ESC/SOS sequences are dropped.
// Nothing of the text is stored: the screen shows it and forgets it when the call ends.
"use strict";

export const T140_PROTOCOL = "t140";
export const BUFFER_MS = 300;
const BOM = "\uFEFF";
const BACKSPACE = "\b";
const LINE_SEPARATOR = "\u2028";
const PARAGRAPH_SEPARATOR = "\u2029";
const ESC = "\u001B";
const SOS = "\u0098";
const ST = "\u009C";
const MAX_SHOWN = 20000;
const COMBINING = /\p{M}/u;
const CONTROL = /\p{Cc}/u;

/** Typed text as T.140 characters (an array of code points). */
export function toT140(text) {
  const out = [];
  for (const ch of text.replace(/\r\n?/g, "\n")) {
    if (ch === "\n" || ch === PARAGRAPH_SEPARATOR) out.push(LINE_SEPARATOR);
    else if (ch !== BOM && !CONTROL.test(ch)) out.push(ch);
  }
  return out;
}

/** What changed at the end of a text box: characters erased back to the common beginning,
 *  then the characters added (T.140 can only append and erase at the end). */
export function textChange(before, after) {
  const a = [...before];
  const b = [...after];
  let same = 0;
  while (same < a.length && same < b.length && a[same] === b[same]) same += 1;
  return { erase: a.length - same, add: b.slice(same).join("") };
}

/** The sending side: one message per BUFFER_MS at most; the first after a pause goes at once. */
export class T140Sender {
  constructor(bufferMs = BUFFER_MS) {
    this.bufferMs = bufferMs;
    this.channel = null;
    this.pending = [];
    this.lastSent = -Infinity;
    this.timer = null;
    this.sent = 0;
  }

  attach(channel) {
    this.channel = channel;
    const opened = () => {
      if (this.channel !== channel) return;
      channel.send(BOM);
      this.schedule();
    };
    if (channel.readyState === "open") opened();
    else channel.addEventListener("open", opened);
  }

  add(text) {
    this.pending.push(...toT140(text));
    this.schedule();
  }

  erase(count) {
    for (let i = 0; i < count; i += 1) {
      const last = this.pending[this.pending.length - 1];
      if (last !== undefined && last !== BACKSPACE) {
        while (this.pending.length && COMBINING.test(this.pending[this.pending.length - 1])) this.pending.pop();
        this.pending.pop(); // never sent: taken back from the buffer
      } else {
        this.pending.push(BACKSPACE);
      }
    }
    this.schedule();
  }

  schedule() {
    if (this.timer !== null || this.pending.length === 0) return;
    const wait = Math.max(0, this.lastSent + this.bufferMs - performance.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  flush() {
    this.timer = null;
    const channel = this.channel;
    if (!channel || channel.readyState !== "open" || this.pending.length === 0) return;
    const text = this.pending.join("");
    try {
      channel.send(text);
    } catch (error) {
      console.warn("real-time text could not be sent", error.name);
      return;
    }
    this.sent += this.pending.length;
    this.pending = [];
    this.lastSent = performance.now();
  }

  reset() {
    clearTimeout(this.timer);
    this.timer = null;
    this.channel = null;
    this.pending = [];
    this.lastSent = -Infinity;
    this.sent = 0;
  }
}

/** The receiving side: T.140 messages in, the text to show out (new lines as "\n"). */
export class T140Receiver {
  constructor(maxShown = MAX_SHOWN) {
    this.maxShown = maxShown;
    this.reset();
  }

  reset() {
    this.chars = [];
    this.received = 0;
    this.afterCr = false;
    this.escape = null; // null | "esc" | "csi" | "sos"
  }

  get text() {
    return this.chars.join("");
  }

  feed(chunk) {
    const out = this.chars;
    for (const ch of chunk) {
      if (this.escape !== null) {
        if (this.escape === "esc") this.escape = ch === "[" ? "csi" : null;
        else if (this.escape === "csi") { if (ch >= "\u0040" && ch <= "\u007E") this.escape = null; }
        else if (ch === ST) this.escape = null;
        continue;
      }
      if (ch === "\n" && this.afterCr) { this.afterCr = false; continue; }
      this.afterCr = ch === "\r";
      if (ch === BOM) continue;
      if (ch === ESC) { this.escape = "esc"; continue; }
      if (ch === SOS) { this.escape = "sos"; continue; }
      if (ch === BACKSPACE) {
        while (out.length && COMBINING.test(out[out.length - 1])) out.pop();
        out.pop();
      } else if (ch === LINE_SEPARATOR || ch === PARAGRAPH_SEPARATOR || ch === "\r" || ch === "\n") {
        out.push("\n");
      } else if (CONTROL.test(ch)) {
        continue; // a bell and the like: not text
      } else {
        out.push(ch);
      }
      this.received += 1;
    }
    if (out.length > this.maxShown) out.splice(0, out.length - this.maxShown);
    return this.text;
  }
}
