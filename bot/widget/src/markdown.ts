// Safe Markdown: a small subset (paragraphs, line breaks, bullet and numbered
// lists, pipe tables, **bold**, *italic*, `code`, fenced code,
// [links](https://...) and bare https:// links) turned straight into DOM nodes. There is no HTML step: raw
// HTML, Slack markup (<url|text>, <!channel>) and anything unrecognised stay
// visible as the literal text they are. Links go only to http(s) and mailto
// addresses and open in a new tab without access to this page.

import { h, text } from "./dom";

const LINK_PROTOCOLS = ["http:", "https:", "mailto:"];
// Whitespace, control characters and backslashes have no place in a link we
// show; browsers "repair" them in ways that can turn a URL into another.
const UNSAFE_URL_CHARS = /[\u0000-\u0020\u007f-\u009f\\]/;
const MAX_DEPTH = 4;
const MAX_SOURCE_CHARS = 20000;

/** The absolute address ``raw`` points to, if it is safe to link to; else null. */
export function safeUrl(raw: unknown, base: string = document.baseURI): string | null {
  if (typeof raw !== "string") return null;
  const candidate = raw.trim();
  if (!candidate || candidate.length > 2048 || UNSAFE_URL_CHARS.test(candidate)) return null;
  let url: URL;
  try {
    url = new URL(candidate, base);
  } catch {
    return null;
  }
  if (!LINK_PROTOCOLS.includes(url.protocol)) return null;
  // https://brightwave.example@evil.example/ reads as one site and is another.
  if (url.username || url.password) return null;
  return url.href;
}

/** An anchor to a safe address, opened in a new tab, or null. */
export function safeLink(raw: unknown, children: (Node | string)[]): HTMLAnchorElement | null {
  const href = safeUrl(raw);
  if (href === null) return null;
  const link = h("a", { href, target: "_blank", rel: "noopener noreferrer nofollow" });
  for (const child of children) link.appendChild(typeof child === "string" ? text(child) : child);
  return link;
}

// Leftmost match wins; at the same position the earlier alternative wins.
const INLINE = new RegExp(
  [
    "(?<code>`[^`\\n]+`)",
    // [label](url) or ![alt](url), the url may hold one level of (parentheses)
    '(?<link>!?\\[(?<label>[^\\]\\n]{0,500})\\]\\(\\s*(?<href>[^\\s()]*(?:\\([^\\s()]*\\)[^\\s()]*)*)(?:\\s+"[^"\\n]*")?\\s*\\))',
    "(?<angle><(?<angled>(?:https?://|mailto:)[^\\s<>|]+)>)",
    "(?<bare>https?://[^\\s<>\"'`|]+)",
    "(?<strong>\\*\\*(?<strongText>[^\\s*](?:[^\\n]*?[^\\s*])?)\\*\\*|__(?<underText>[^\\s_](?:[^\\n]*?[^\\s_])?)__)",
    "(?<em>\\*(?<emText>[^\\s*](?:[^*\\n]*?[^\\s*])?)\\*)",
  ].join("|"),
  "g",
);

/** Trailing punctuation is not part of a bare link: "see https://x.example/a." */
function trimBareUrl(url: string): string {
  let end = url.length;
  while (end > 0) {
    const last = url[end - 1];
    if (".,;:!?'\"".includes(last)) {
      end -= 1;
    } else if (last === ")") {
      const inside = url.slice(0, end);
      if ((inside.match(/\(/g) || []).length >= (inside.match(/\)/g) || []).length) break;
      end -= 1;
    } else {
      break;
    }
  }
  return url.slice(0, end);
}

/** Inline Markdown of one line (or one list item) as nodes. */
export function inline(source: string, depth = 0, links = true): Node[] {
  if (depth >= MAX_DEPTH) return [text(source)];
  const nodes: Node[] = [];
  let plain = "";
  const flush = (): void => {
    if (plain) nodes.push(text(plain));
    plain = "";
  };
  const pattern = new RegExp(INLINE.source, "g");
  let position = 0;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(source)) !== null) {
    const groups = match.groups || {};
    let whole = match[0];
    let node: Node | null = null;
    if (groups.code !== undefined) {
      node = h("code", {}, whole.slice(1, -1));
    } else if (groups.link !== undefined) {
      const label = groups.label || "";
      const image = whole.startsWith("!");
      // Images become links: a message never loads anything by itself.
      const children = label ? inline(label, depth + 1, false) : [text(groups.href || "")];
      node = links ? safeLink(groups.href, image && !label ? [groups.href || ""] : children) : null;
    } else if (groups.angle !== undefined) {
      node = links ? safeLink(groups.angled, [groups.angled || ""]) : null;
    } else if (groups.bare !== undefined) {
      whole = trimBareUrl(whole);
      pattern.lastIndex = match.index + whole.length;
      node = links ? safeLink(whole, [whole]) : null;
    } else if (groups.strong !== undefined) {
      const inner = groups.strongText ?? groups.underText ?? "";
      node = h("strong", {});
      for (const child of inline(inner, depth + 1, links)) node.appendChild(child);
    } else if (groups.em !== undefined) {
      node = h("em", {});
      for (const child of inline(groups.emText || "", depth + 1, links)) node.appendChild(child);
    }
    plain += source.slice(position, match.index);
    if (node === null) {
      plain += whole; // not allowed here (an unsafe link): shown as typed
    } else {
      flush();
      nodes.push(node);
    }
    position = match.index + whole.length;
    if (whole.length === 0) pattern.lastIndex += 1;
  }
  plain += source.slice(position);
  flush();
  return nodes;
}

const BULLET = /^\s{0,3}[-*+]\s+(.*)$/;
const NUMBERED = /^\s{0,3}(\d{1,9})[.)]\s+(.*)$/;
const HEADING = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/;
const FENCE = /^\s{0,3}(```|~~~)/;
const QUOTE = /^\s{0,3}>\s?(.*)$/;
// A table: a row of cells, then a delimiter row (|---|:---:|), then rows.
const TABLE_DELIMITER = /^\s{0,3}\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;
const MAX_TABLE_COLUMNS = 12;

/** The cells of a table row: split on | that is not escaped or in `code`. */
export function tableCells(line: string): string[] {
  let row = line.trim();
  if (row.startsWith("|")) row = row.slice(1);
  if (row.endsWith("|") && !row.endsWith("\\|")) row = row.slice(0, -1);
  const cells: string[] = [];
  let cell = "";
  let inCode = false;
  for (let i = 0; i < row.length; i += 1) {
    const ch = row[i];
    if (ch === "\\" && row[i + 1] === "|") {
      cell += "|";
      i += 1;
    } else if (ch === "`") {
      inCode = !inCode;
      cell += ch;
    } else if (ch === "|" && !inCode) {
      cells.push(cell.trim());
      cell = "";
    } else {
      cell += ch;
    }
  }
  cells.push(cell.trim());
  return cells;
}

function isTableStart(lines: string[], index: number): boolean {
  const line = lines[index];
  const next = lines[index + 1];
  if (next === undefined || !line.includes("|") || !TABLE_DELIMITER.test(next)) return false;
  if (!next.includes("|") && !line.trim().startsWith("|")) return false;
  const columns = tableCells(line).length;
  return columns > 0 && columns <= MAX_TABLE_COLUMNS && tableCells(next).length === columns;
}

/** A table from the header line at ``index``; returns it and the next line's index. */
function table(lines: string[], index: number): [HTMLElement, number] {
  const header = tableCells(lines[index]);
  const columns = header.length;
  const head = h("tr");
  for (const cell of header) {
    const th = h("th", { scope: "col" });
    appendInline(th, cell);
    head.appendChild(th);
  }
  const body = h("tbody");
  let next = index + 2;
  while (next < lines.length && lines[next].includes("|") && lines[next].trim()) {
    const cells = tableCells(lines[next]).slice(0, columns);
    const row = h("tr");
    for (let column = 0; column < columns; column += 1) {
      const td = h("td");
      appendInline(td, cells[column] ?? "");
      row.appendChild(td);
    }
    body.appendChild(row);
    next += 1;
  }
  const element = h("div", { class: "fl-table" }, h("table", {}, h("thead", {}, head), body));
  return [element, next];
}

function appendInline(parent: Node, line: string): void {
  for (const node of inline(line)) parent.appendChild(node);
}

/** Markdown ``source`` as a fragment of block elements. */
export function renderMarkdown(source: string): DocumentFragment {
  const fragment = document.createDocumentFragment();
  const lines = source.slice(0, MAX_SOURCE_CHARS).replace(/\r\n?/g, "\n").split("\n");
  let paragraph: HTMLParagraphElement | null = null;
  let list: HTMLUListElement | HTMLOListElement | null = null;
  let item: HTMLLIElement | null = null;
  let quote: HTMLQuoteElement | null = null;

  const close = (): void => {
    paragraph = null;
    list = null;
    item = null;
    quote = null;
  };

  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index];
    if (FENCE.test(line)) {
      close();
      const fence = (line.match(FENCE) as RegExpMatchArray)[1];
      const body: string[] = [];
      index += 1;
      while (index < lines.length && !lines[index].trimStart().startsWith(fence)) {
        body.push(lines[index]);
        index += 1;
      }
      fragment.appendChild(h("pre", {}, h("code", {}, body.join("\n"))));
      continue;
    }
    if (!line.trim()) {
      close();
      continue;
    }
    if (isTableStart(lines, index)) {
      close();
      const [element, next] = table(lines, index);
      fragment.appendChild(element);
      index = next - 1;
      continue;
    }
    const bullet = line.match(BULLET);
    const numbered = bullet ? null : line.match(NUMBERED);
    if (bullet || numbered) {
      const ordered = numbered !== null;
      const current = list as HTMLUListElement | HTMLOListElement | null;
      if (current === null || (current.tagName === "OL") !== ordered) {
        paragraph = null;
        quote = null;
        const start = numbered ? Number(numbered[1]) : 1;
        list = ordered ? h("ol", { start: start === 1 ? null : start }) : h("ul");
        fragment.appendChild(list);
      }
      item = h("li");
      appendInline(item, (bullet || numbered)![bullet ? 1 : 2]);
      (list as HTMLElement).appendChild(item);
      continue;
    }
    if (item !== null && /^\s+\S/.test(line)) {
      // an indented line continues the list item above it
      (item as HTMLLIElement).appendChild(h("br"));
      appendInline(item, line.trim());
      continue;
    }
    const heading = line.match(HEADING);
    if (heading) {
      close();
      const strong = h("strong");
      appendInline(strong, heading[1]);
      fragment.appendChild(h("p", {}, strong));
      continue;
    }
    const quoted = line.match(QUOTE);
    if (quoted) {
      list = null;
      item = null;
      paragraph = null;
      if (quote === null) {
        quote = h("blockquote");
        fragment.appendChild(quote);
      } else {
        (quote as HTMLQuoteElement).appendChild(h("br"));
      }
      appendInline(quote, quoted[1]);
      continue;
    }
    list = null;
    item = null;
    quote = null;
    if (paragraph === null) {
      paragraph = h("p");
      fragment.appendChild(paragraph);
    } else {
      (paragraph as HTMLParagraphElement).appendChild(h("br"));
    }
    appendInline(paragraph, line);
  }
  return fragment;
}
