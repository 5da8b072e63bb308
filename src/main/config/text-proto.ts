/**
 * A parser for protobuf text format (the format of TF Serving's `--model_config_file`),
 * schema-less: every field maps to the list of values it was given, in order, because any
 * field may be repeated. Messages are `name { ... }`, `name: { ... }` or `name < ... >`;
 * scalars are `name: value` with value a (possibly concatenated) quoted string, a number,
 * an identifier (enum names, true/false) or a `[a, b]` list. `#` starts a comment.
 */
export type TextValue = string | number | boolean | TextMessage;
export interface TextMessage {
  readonly [field: string]: TextValue[];
}

export class TextProtoError extends Error {
  constructor(message: string, line: number, col: number) {
    super(`${message} at line ${line}, column ${col}`);
    this.name = 'TextProtoError';
  }
}

type Token =
  | { kind: 'ident'; text: string; line: number; col: number }
  | { kind: 'string'; text: string; line: number; col: number }
  | { kind: 'number'; text: string; line: number; col: number }
  | { kind: 'punct'; text: string; line: number; col: number }
  | { kind: 'eof'; text: ''; line: number; col: number };

const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '0': '\0',
};

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  while (i < src.length) {
    const c = src[i];
    const col = i - lineStart + 1;
    if (c === '\n') {
      line++;
      lineStart = ++i;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '"' || c === "'") {
      let text = '';
      i++;
      while (src[i] !== c) {
        if (i >= src.length || src[i] === '\n') throw new TextProtoError('Unterminated string', line, col);
        if (src[i] === '\\') {
          const e = src[i + 1];
          if (!(e in ESCAPES)) throw new TextProtoError(`Unsupported escape \\${e}`, line, i - lineStart + 1);
          text += ESCAPES[e];
          i += 2;
        } else text += src[i++];
      }
      i++;
      tokens.push({ kind: 'string', text, line, col });
    } else if (/[-+0-9.]/.test(c)) {
      const m = /^[-+]?(?:0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)[fF]?/.exec(src.slice(i));
      if (!m) throw new TextProtoError(`Unexpected '${c}'`, line, col);
      tokens.push({ kind: 'number', text: m[0], line, col });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(src.slice(i))!;
      tokens.push({ kind: 'ident', text: m[0], line, col });
      i += m[0].length;
    } else if ('{}<>:[],;'.includes(c)) {
      tokens.push({ kind: 'punct', text: c, line, col });
      i++;
    } else {
      throw new TextProtoError(`Unexpected '${c}'`, line, col);
    }
  }
  tokens.push({ kind: 'eof', text: '', line, col: i - lineStart + 1 });
  return tokens;
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.pos];
  }

  private next(): Token {
    return this.tokens[this.pos++];
  }

  private fail(message: string, t: Token = this.peek()): never {
    throw new TextProtoError(message, t.line, t.col);
  }

  message(close: string | undefined): TextMessage {
    const out: Record<string, TextValue[]> = {};
    for (;;) {
      const t = this.peek();
      if (close === undefined ? t.kind === 'eof' : t.kind === 'punct' && t.text === close) {
        this.next();
        return out;
      }
      if (t.kind === 'eof') this.fail(`Expected '${close}'`);
      if (t.kind !== 'ident') this.fail(`Expected a field name, found '${t.text}'`);
      this.next();
      out[t.text] ??= [];
      const values = out[t.text];
      let colon = false;
      if (this.peek().kind === 'punct' && this.peek().text === ':') {
        this.next();
        colon = true;
      }
      const v = this.peek();
      if (v.kind === 'punct' && (v.text === '{' || v.text === '<')) {
        this.next();
        values.push(this.message(v.text === '{' ? '}' : '>'));
      } else if (!colon) {
        this.fail(`Expected ':' or '{' after field '${t.text}'`);
      } else if (v.kind === 'punct' && v.text === '[') {
        this.next();
        while (!(this.peek().kind === 'punct' && this.peek().text === ']')) {
          values.push(this.scalar());
          if (this.peek().kind === 'punct' && this.peek().text === ',') this.next();
        }
        this.next();
      } else {
        values.push(this.scalar());
      }
      const sep = this.peek();
      if (sep.kind === 'punct' && (sep.text === ',' || sep.text === ';')) this.next();
    }
  }

  private scalar(): TextValue {
    const t = this.next();
    if (t.kind === 'string') {
      let text = t.text;
      while (this.peek().kind === 'string') text += this.next().text;
      return text;
    }
    if (t.kind === 'number') {
      const n = Number(t.text.replace(/[fF]$/, ''));
      if (Number.isNaN(n)) this.fail(`Bad number '${t.text}'`, t);
      return n;
    }
    if (t.kind === 'ident') {
      if (t.text === 'true' || t.text === 'True') return true;
      if (t.text === 'false' || t.text === 'False') return false;
      return t.text;
    }
    return this.fail(`Expected a value, found '${t.text}'`, t);
  }
}

/** Parses a whole text-format message. Throws TextProtoError with line and column. */
export function parseTextProto(src: string): TextMessage {
  return new Parser(tokenize(src)).message(undefined);
}
