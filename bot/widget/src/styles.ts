// The widget's CSS, scoped to its shadow root so the host page's styles and
// the widget's never touch. Colours come from the embed configuration through
// custom properties; every text/background pair meets WCAG AA (4.5:1).

import type { WidgetConfig } from "./config";
import { textOn } from "./config";

export function css(config: WidgetConfig): string {
  const onPrimary = textOn(config.primaryColor);
  return `
:host { all: initial; }
.fl-root {
  --fl-primary: ${config.primaryColor};
  --fl-on-primary: ${onPrimary};
  --fl-accent: ${config.accentColor};
  --fl-text: #1d2330;
  --fl-muted: #4d5666;
  --fl-bot-bg: #eef1f6;
  --fl-agent-bg: #fff6dc;
  --fl-agent-edge: #9a6400;
  --fl-border: #c8d0dc;
  position: fixed; bottom: 16px; right: 16px; z-index: 2147483000;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fl-text);
  display: flex; flex-direction: column; align-items: flex-end; gap: 12px;
}
.fl-root.fl-left { right: auto; left: 16px; align-items: flex-start; }
.fl-root *, .fl-root *::before, .fl-root *::after { box-sizing: border-box; }
.fl-sr { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
button { font: inherit; cursor: pointer; }
button:disabled { cursor: default; }
:focus-visible { outline: 3px solid var(--fl-accent); outline-offset: 2px; }
.fl-launcher { width: 60px; height: 60px; border-radius: 50%; border: 0; position: relative;
  background: var(--fl-primary); color: var(--fl-on-primary); box-shadow: 0 4px 14px rgba(0,0,0,.25);
  display: grid; place-items: center; }
.fl-launcher svg { width: 28px; height: 28px; }
.fl-badge { position: absolute; top: -4px; right: -4px; min-width: 22px; height: 22px; padding: 0 6px;
  border-radius: 11px; background: #b3261e; color: #fff; font-size: 12px; font-weight: 700; line-height: 22px; }
.fl-panel { width: 380px; height: min(620px, calc(100vh - 110px)); background: #fff; border-radius: 14px;
  box-shadow: 0 8px 32px rgba(0,0,0,.22); display: flex; flex-direction: column; overflow: hidden;
  border: 1px solid var(--fl-border); }
.fl-panel[hidden] { display: none; }
.fl-header { background: var(--fl-primary); color: var(--fl-on-primary); padding: 12px 8px 10px 16px;
  display: flex; align-items: flex-start; gap: 4px; }
.fl-heading { flex: 1; min-width: 0; }
.fl-title { font-size: 17px; font-weight: 650; margin: 0; }
.fl-subtitle { margin: 2px 0 0; font-size: 13px; display: flex; flex-wrap: wrap; gap: 0 8px; }
.fl-conn::before { content: ""; display: inline-block; width: 8px; height: 8px; border-radius: 50%;
  margin-right: 6px; background: #9aa3b0; vertical-align: 1px; }
.fl-conn[data-state="online"]::before { background: #3ccf6e; }
.fl-conn[data-state="offline"]::before { background: #ff8a80; }
.fl-conn[data-state="none"] { display: none; }
.fl-mode:empty { display: none; }
.fl-icon-button { background: transparent; color: inherit; border: 0; border-radius: 8px; width: 40px; height: 40px;
  display: grid; place-items: center; flex: none; }
.fl-icon-button:hover { background: rgba(127,127,127,.25); }
.fl-confirm { background: #fff8e1; color: var(--fl-text); border-bottom: 1px solid var(--fl-border); padding: 10px 16px; }
.fl-confirm[hidden] { display: none; }
.fl-confirm p { margin: 0 0 8px; }
.fl-confirm button { margin-right: 8px; border-radius: 8px; padding: 6px 12px; border: 1px solid var(--fl-accent);
  background: #fff; color: var(--fl-accent); }
.fl-confirm .fl-danger { background: var(--fl-accent); color: #fff; }
.fl-scroll { flex: 1; overflow-y: auto; padding: 12px 12px 4px; overscroll-behavior: contain; }
.fl-log { display: flex; flex-direction: column; gap: 10px; }
.fl-entry { display: flex; flex-direction: column; align-items: flex-start; gap: 4px; max-width: 100%; }
.fl-entry[hidden] { display: none; }
.fl-entry-user { align-items: flex-end; }
.fl-bubble { padding: 8px 12px; border-radius: 14px; max-width: 85%; overflow-wrap: anywhere; }
.fl-bot { background: var(--fl-bot-bg); border-bottom-left-radius: 4px; }
.fl-user { background: var(--fl-primary); color: var(--fl-on-primary); border-bottom-right-radius: 4px; }
.fl-plain { white-space: pre-wrap; }
.fl-agent { background: var(--fl-agent-bg); border: 1px solid var(--fl-agent-edge); border-left-width: 4px;
  border-bottom-left-radius: 4px; }
.fl-agent-name { display: block; font-weight: 700; font-size: 13px; color: #6b4500; margin-bottom: 2px; }
.fl-agent-tag { font-weight: 600; font-size: 11px; text-transform: uppercase; letter-spacing: .04em;
  margin-left: 6px; padding: 1px 6px; border-radius: 6px; background: #6b4500; color: #fff; }
.fl-trouble { background: #fdecea; color: #7a1712; border: 1px solid #e3a39d; }
.fl-md p, .fl-md ul, .fl-md ol, .fl-md pre, .fl-md blockquote, .fl-md .fl-table { margin: 0 0 6px; }
.fl-md .fl-table { overflow-x: auto; }
.fl-md table { border-collapse: collapse; font-size: 13px; }
.fl-md th, .fl-md td { border: 1px solid var(--fl-border); padding: 3px 6px; text-align: left; vertical-align: top; }
.fl-md th { background: rgba(0,0,0,.04); font-weight: 600; }
.fl-md > :last-child { margin-bottom: 0; }
.fl-md ul, .fl-md ol { padding-left: 20px; }
.fl-md code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; background: rgba(0,0,0,.06);
  padding: 0 3px; border-radius: 4px; }
.fl-md pre { white-space: pre-wrap; background: rgba(0,0,0,.06); padding: 6px 8px; border-radius: 6px; }
.fl-md pre code { background: none; padding: 0; }
.fl-md blockquote { border-left: 3px solid var(--fl-border); padding-left: 8px; color: var(--fl-muted); }
.fl-root a { color: var(--fl-accent); text-decoration: underline; }
.fl-agent a { color: #3d2b00; }
.fl-trouble a { color: #7a1712; }
.fl-time, .fl-meta { font-size: 12px; color: var(--fl-muted); }
.fl-meta { display: flex; gap: 8px; align-items: center; }
.fl-entry-user[data-status="pending"] .fl-user { opacity: .8; }
.fl-entry-user[data-status="failed"] .fl-status-text { color: #b3261e; font-weight: 600; }
.fl-retry { border: 0; background: none; color: var(--fl-accent); text-decoration: underline; padding: 0; }
.fl-entry-notice { align-items: stretch; }
.fl-notice { margin: 2px 0; text-align: center; font-size: 13px; color: var(--fl-muted); }
.fl-notice-handoff { color: #3b4350; background: #f3f5f8; border-radius: 10px; padding: 6px 10px; }
.fl-choices { display: flex; flex-wrap: wrap; gap: 6px; max-width: 100%; }
.fl-choices[hidden] { display: none; }
.fl-choice { border: 1.5px solid var(--fl-accent); color: var(--fl-accent); background: #fff; border-radius: 16px;
  padding: 5px 12px; font-size: 14px; text-decoration: none; }
.fl-choice:hover:not(:disabled) { background: #eef3fb; }
.fl-choice:disabled { border-color: #c8d0dc; color: #5f6877; }
.fl-card { border: 1px solid var(--fl-border); border-radius: 12px; padding: 10px 12px; max-width: 90%; background: #fff; }
.fl-card-title { margin: 0 0 4px; font-size: 15px; }
.fl-card-source, .fl-card-related-title { margin: 0 0 4px; font-size: 12px; color: var(--fl-muted); }
.fl-card-passage { margin: 0 0 6px; font-size: 14px; }
.fl-card-related { margin: 0; padding-left: 18px; font-size: 14px; }
.fl-card-more { font-size: 14px; font-weight: 600; }
.fl-card-buttons { margin-top: 6px; }
.fl-image { max-width: 100%; border-radius: 8px; display: block; }
.fl-media { padding: 4px; }
.fl-csat { background: var(--fl-bot-bg); border-radius: 14px; padding: 10px 12px; max-width: 90%; }
.fl-csat-question { margin: 0 0 8px; font-weight: 600; }
.fl-csat-scores { display: flex; gap: 6px; }
.fl-csat-score { width: 44px; height: 44px; border-radius: 50%; border: 1.5px solid var(--fl-accent); background: #fff;
  color: var(--fl-accent); font-weight: 700; }
.fl-csat-score[aria-pressed="true"] { background: var(--fl-accent); color: #fff; }
.fl-csat-score:disabled:not([aria-pressed="true"]) { border-color: #c8d0dc; color: #5f6877; }
.fl-csat-ends { display: flex; justify-content: space-between; font-size: 12px; color: var(--fl-muted); margin-top: 4px;
  width: 244px; }
.fl-csat-thanks { margin: 8px 0 0; }
.fl-typing { display: flex; gap: 4px; padding: 10px 12px; margin: 8px 0 4px; background: var(--fl-bot-bg);
  border-radius: 14px; width: fit-content; }
.fl-typing[hidden] { display: none; }
.fl-dot { width: 7px; height: 7px; border-radius: 50%; background: #5f6877; animation: fl-blink 1.2s infinite; }
.fl-dot:nth-child(3) { animation-delay: .2s; }
.fl-dot:nth-child(4) { animation-delay: .4s; }
@keyframes fl-blink { 0%, 80%, 100% { opacity: .3; } 40% { opacity: 1; } }
@media (prefers-reduced-motion: reduce) { .fl-dot { animation: none; } }
.fl-form { display: flex; align-items: flex-end; gap: 8px; border-top: 1px solid var(--fl-border); padding: 8px; }
.fl-input { flex: 1; resize: none; border: 1px solid var(--fl-border); border-radius: 10px; padding: 9px 12px;
  font: inherit; font-size: 16px; color: var(--fl-text); max-height: 120px; min-height: 42px; }
.fl-input::placeholder { color: #646d7c; }
.fl-send { width: 42px; height: 42px; border-radius: 10px; border: 0; background: var(--fl-primary);
  color: var(--fl-on-primary); display: grid; place-items: center; flex: none; }
@media (max-width: 480px) {
  .fl-root, .fl-root.fl-left { bottom: 12px; right: 12px; }
  .fl-root.fl-left { left: 12px; right: auto; }
  .fl-root.fl-open { inset: 0; }
  .fl-root.fl-open .fl-launcher { display: none; }
  .fl-root.fl-open .fl-panel { width: 100%; height: 100%; border-radius: 0; border: 0; }
}
`;
}
