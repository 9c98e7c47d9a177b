// Every string the interpreter console shows, in Chinese (the default) and English.
// console.js never writes visible text itself: it asks t(key, params).
"use strict";

export const LANGUAGES = ["zh", "en"];
export const DEFAULT_LANGUAGE = "zh";

const STRINGS = {
  zh: {
    html_lang: "zh-CN",
    app_title: "手语翻译坐席",
    lang_toggle: "English",

    // sign-in
    login_heading: "译员登录",
    login_intro: "登录后即可接听无障碍窗口的手语翻译来电。",
    login_id: "译员账号",
    login_password: "密码",
    login_submit: "登录",
    login_busy: "正在登录…",
    login_required: "请输入译员账号和密码。",
    login_wrong: "账号或密码错误，请重新输入。",
    login_throttled: "登录失败次数过多，请稍后再试。",
    login_network: "无法连接调度服务，请检查网络后重试。",
    login_server: "登录失败（服务器错误 {status}），请稍后再试。",
    login_expired: "登录已失效，请重新登录。",
    logout: "退出登录",
    signed_in_as: "译员：{name}",

    // link to dispatch
    link_up: "已连接调度服务",
    link_connecting: "正在连接调度服务…",
    link_down: "连接中断，{s} 秒后重试",
    link_down_now: "连接中断，正在重试…",
    link_replaced: "此账号已在其他窗口或设备上登录，本页已断开。",
    link_outdated: "本页面版本过旧，请刷新页面。",
    reconnect_here: "在此处重新连接",
    sound_blocked: "铃声未开启，点击此处开启",

    // presence and status
    presence_heading: "接听状态",
    presence_available: "可接听",
    presence_away: "暂停接听",
    presence_group_label: "选择是否接听来电",
    status_available: "可接听：等待来电",
    status_away: "暂停接听：不会收到来电",
    status_ringing: "来电中",
    status_in_call: "通话中",
    status_wrap_up: "整理时间",
    status_offline: "未连接",
    status_missed_rings: "连续 {n} 次未接听来电，系统已自动设为“暂停接听”。准备好后请点击“可接听”。",
    status_wrap_up_over: "整理时间结束，已恢复可接听。",
    wrap_up_left: "{time} 后自动恢复接听",
    wrap_up_hint: "需要更多时间，请点击“暂停接听”。",
    wrap_up_ready: "已准备好，立即接听",

    // own camera and microphone
    media_heading: "我的摄像头和麦克风",
    media_idle: "设为“可接听”时将打开摄像头和麦克风。",
    media_starting: "正在打开摄像头和麦克风…",
    media_ready: "摄像头和麦克风已就绪。",
    media_failed: "无法使用摄像头或麦克风：{detail}。您仍可接听来电，但居民将看不到或听不到您。",
    media_retry: "重试摄像头和麦克风",
    media_err_denied: "浏览器未获得使用权限",
    media_err_missing: "未找到摄像头或麦克风",
    media_err_busy: "设备正被其他程序占用",
    media_err_insecure: "页面必须通过 HTTPS 打开",
    media_err_other: "未知错误",
    self_preview_label: "我的摄像头画面预览",

    // incoming call
    ring_heading: "来电，请接听",
    ring_location: "地点",
    ring_waited: "居民已等待",
    ring_started_by: "发起人",
    ring_category: "事项",
    started_by_resident: "居民本人",
    started_by_staff: "窗口工作人员",
    ring_left: "{s} 秒后转给其他译员",
    ring_moving: "即将转给其他译员…",
    accept: "接听",
    decline: "拒接",
    title_ringing: "【来电】{location}",

    // in a call
    call_heading: "通话中：{location}",
    call_connecting: "正在建立视频连接…",
    call_unstable: "网络不稳定，正在恢复连接…",
    call_reconnecting: "居民的画面中断了，正在重新连接…（通话仍在继续）",
    call_link_down: "与调度服务的连接中断，正在重连；通话继续。",
    low_fps_warning: "画面帧率偏低，手语可能不够流畅",
    call_timer: "通话时长 {time}",
    remote_video_label: "居民的视频画面",
    self_video_label: "我的画面",
    waiting_remote_video: "等待居民的画面…",
    mic_off_badge: "麦克风已关闭",
    camera_off_badge: "摄像头已关闭",
    no_media_badge: "对方看不到也听不到您",
    mute: "关闭麦克风",
    unmute: "打开麦克风",
    camera_stop: "关闭摄像头",
    camera_start: "打开摄像头",
    hangup: "结束通话",
    text_remote_heading: "居民输入的文字",
    text_local_heading: "您输入的文字（居民实时看到）",
    text_waiting: "等待文字通道…",
    text_unavailable: "居民一方暂不能收发文字。",

    // what just happened
    notice_dismiss: "知道了",
    ended_by_me: "通话已结束。",
    ended_by_kiosk: "居民一方已结束通话。",
    ended_peer_gone: "居民一方的连接中断，通话已结束。",
    ended_media_failed: "视频连接失败，通话已结束。",
    ended_link_lost: "与调度服务的连接中断，通话已结束。",
    ended_network_lost: "网络中断超过一分钟未能恢复，通话已结束。",
    ring_cancelled: "居民已取消来电。",
    ring_timed_out: "来电未接听，已转给其他译员。",
    ring_withdrawn: "来电已撤回。",
    ring_link_lost: "与调度服务的连接中断，来电已转给其他译员。",
    declined_notice: "已拒接来电。",
    not_connected: "尚未连接调度服务，请稍候。",
    error_unknown_session: "该来电已不存在。",
    error_bad_state: "当前状态下无法执行此操作。",
    error_forbidden: "无权执行此操作。",
    error_bad_message: "调度服务无法识别本页面发送的消息，请刷新页面。",
    error_too_large: "消息过大，调度服务未接受。",
    error_other: "调度服务拒绝了此操作。",

    // today's calls
    history_heading: "今日通话",
    history_time: "时间",
    history_location: "地点",
    history_duration: "时长",
    history_outcome: "结果",
    history_empty: "今天还没有通话记录。",
    history_loading: "正在载入…",
    history_error: "无法载入通话记录。",
    history_refresh: "刷新记录",
    outcome_completed: "已完成",
    outcome_answered: "已接听",
    outcome_declined: "已拒接",
    outcome_cancelled: "对方已取消",
    outcome_cancelled_by_caller: "对方已取消",
    outcome_kiosk_gone: "对方连接中断",
    outcome_network_lost: "连接中断",
    outcome_device_error: "设备故障",
    outcome_interrupted: "意外中断",
    outcome_no_interpreter: "无译员接听",
    outcome_out_of_hours: "非服务时间",
    outcome_dispatch_unreachable: "无法连接调度服务",
    outcome_unknown: "未知",
    empty_value: "—",
  },

  en: {
    html_lang: "en",
    app_title: "Sign-language interpreter console",
    lang_toggle: "Chinese",

    login_heading: "Interpreter sign-in",
    login_intro: "Sign in to answer sign-language calls from the accessible counters.",
    login_id: "Interpreter ID",
    login_password: "Password",
    login_submit: "Sign in",
    login_busy: "Signing in…",
    login_required: "Enter your interpreter ID and password.",
    login_wrong: "Wrong ID or password. Please try again.",
    login_throttled: "Too many failed sign-ins. Please wait a moment and try again.",
    login_network: "Cannot reach the dispatch service. Check the network and try again.",
    login_server: "Sign-in failed (server error {status}). Please try again later.",
    login_expired: "Your session has ended. Please sign in again.",
    logout: "Sign out",
    signed_in_as: "Interpreter: {name}",

    link_up: "Connected to dispatch",
    link_connecting: "Connecting to dispatch…",
    link_down: "Connection lost, retrying in {s} s",
    link_down_now: "Connection lost, retrying…",
    link_replaced: "This account was opened in another window or device; this page is disconnected.",
    link_outdated: "This page is out of date. Please reload it.",
    reconnect_here: "Reconnect here",
    sound_blocked: "Ring sound is off: click here to turn it on",

    presence_heading: "Availability",
    presence_available: "Available",
    presence_away: "Away",
    presence_group_label: "Choose whether calls may ring",
    status_available: "Available: waiting for calls",
    status_away: "Away: no calls will ring",
    status_ringing: "Incoming call",
    status_in_call: "In a call",
    status_wrap_up: "Wrap-up",
    status_offline: "Not connected",
    status_missed_rings: "Set to away after {n} missed calls in a row. Press \"Available\" when you are ready.",
    status_wrap_up_over: "Wrap-up is over: you are available again.",
    wrap_up_left: "Back to available in {time}",
    wrap_up_hint: "Need more time? Press \"Away\".",
    wrap_up_ready: "Ready now: take calls",

    media_heading: "My camera and microphone",
    media_idle: "The camera and microphone open when you become available.",
    media_starting: "Opening the camera and microphone…",
    media_ready: "Camera and microphone are ready.",
    media_failed: "Cannot use the camera or microphone: {detail}. You can still answer calls, but the resident will not see or hear you.",
    media_retry: "Try the camera and microphone again",
    media_err_denied: "the browser was not given permission",
    media_err_missing: "no camera or microphone was found",
    media_err_busy: "the device is in use by another program",
    media_err_insecure: "the page must be opened over HTTPS",
    media_err_other: "unknown error",
    self_preview_label: "Preview of my camera",

    ring_heading: "Incoming call: please answer",
    ring_location: "Location",
    ring_waited: "Resident has waited",
    ring_started_by: "Started by",
    ring_category: "Subject",
    started_by_resident: "The resident",
    started_by_staff: "Counter staff",
    ring_left: "Moves to another interpreter in {s} s",
    ring_moving: "Moving to another interpreter…",
    accept: "Accept",
    decline: "Decline",
    title_ringing: "[CALL] {location}",

    call_heading: "In call: {location}",
    call_connecting: "Connecting the video…",
    call_unstable: "Unstable network, reconnecting…",
    call_reconnecting: "The resident's picture stopped. Reconnecting… (the call goes on)",
    call_link_down: "The connection to dispatch dropped and is being restored; the call goes on.",
    low_fps_warning: "Low frame rate: signing may be hard to follow",
    call_timer: "Call time {time}",
    remote_video_label: "The resident's video",
    self_video_label: "My picture",
    waiting_remote_video: "Waiting for the resident's picture…",
    mic_off_badge: "Microphone off",
    camera_off_badge: "Camera off",
    no_media_badge: "The resident cannot see or hear you",
    mute: "Mute microphone",
    unmute: "Unmute microphone",
    camera_stop: "Turn camera off",
    camera_start: "Turn camera on",
    hangup: "End call",
    text_remote_heading: "Resident's text",
    text_local_heading: "Your text (the resident sees it as you type)",
    text_waiting: "Waiting for the text channel…",
    text_unavailable: "Text is not available with this kiosk.",

    notice_dismiss: "OK",
    ended_by_me: "The call has ended.",
    ended_by_kiosk: "The resident's side ended the call.",
    ended_peer_gone: "The resident's side lost its connection; the call has ended.",
    ended_media_failed: "The video connection failed; the call has ended.",
    ended_link_lost: "The connection to dispatch was lost; the call has ended.",
    ended_network_lost: "The network did not come back within a minute; the call has ended.",
    ring_cancelled: "The caller cancelled the call.",
    ring_timed_out: "Call not answered: it moved to another interpreter.",
    ring_withdrawn: "The call was withdrawn.",
    ring_link_lost: "The connection to dispatch was lost; the call moved to another interpreter.",
    declined_notice: "Call declined.",
    not_connected: "Not connected to dispatch yet. Please wait.",
    error_unknown_session: "That call no longer exists.",
    error_bad_state: "That is not possible right now.",
    error_forbidden: "You may not do that.",
    error_bad_message: "Dispatch did not understand this page. Please reload it.",
    error_too_large: "The message was too large for dispatch.",
    error_other: "Dispatch refused that action.",

    history_heading: "Today's calls",
    history_time: "Time",
    history_location: "Location",
    history_duration: "Duration",
    history_outcome: "Outcome",
    history_empty: "No calls today yet.",
    history_loading: "Loading…",
    history_error: "Could not load the call history.",
    history_refresh: "Refresh list",
    outcome_completed: "Completed",
    outcome_answered: "Answered",
    outcome_declined: "Declined",
    outcome_cancelled: "Cancelled by caller",
    outcome_cancelled_by_caller: "Cancelled by caller",
    outcome_kiosk_gone: "Caller's connection lost",
    outcome_network_lost: "Connection lost",
    outcome_device_error: "Device failure",
    outcome_interrupted: "Interrupted",
    outcome_no_interpreter: "No interpreter",
    outcome_out_of_hours: "Outside service hours",
    outcome_dispatch_unreachable: "Dispatch unreachable",
    outcome_unknown: "Unknown",
    empty_value: "—",
  },
};

let current = DEFAULT_LANGUAGE;

export function setLanguage(lang) {
  current = LANGUAGES.includes(lang) ? lang : DEFAULT_LANGUAGE;
  return current;
}

export function getLanguage() {
  return current;
}

export function has(key) {
  return Object.prototype.hasOwnProperty.call(STRINGS[current], key);
}

/** The text for `key` in the current language, with `{name}` replaced from `params`. */
export function t(key, params = {}) {
  const table = STRINGS[current];
  let text = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : STRINGS[DEFAULT_LANGUAGE][key];
  if (text === undefined) {
    console.warn("i18n: no text for", key);
    return key;
  }
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** Every key of every language, for a consistency check in the tests. */
export function keys(lang) {
  return Object.keys(STRINGS[lang] || {});
}

/** Seconds as m:ss, or h:mm:ss from an hour on. */
export function formatDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** Epoch seconds as the local time of day, HH:MM. */
export function formatClock(epochSeconds) {
  const d = new Date(epochSeconds * 1000);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}
