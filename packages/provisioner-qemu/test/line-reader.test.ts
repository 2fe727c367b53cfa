import { describe, expect, it } from 'vitest';
import { LineReader, LineTooLongError } from '../src/qmp/line-reader.js';

describe('LineReader', () => {
  it('joins a line split over chunks and splits several lines in one chunk', () => {
    const reader = new LineReader();
    expect(reader.push('{"return"')).toEqual([]);
    expect(reader.push(': {}}\n{"a":1}\n{"b"')).toEqual(['{"return": {}}', '{"a":1}']);
    expect(reader.push(':2}\n')).toEqual(['{"b":2}']);
  });

  it('accepts CRLF and skips blank lines', () => {
    expect(new LineReader().push('one\r\n\r\n  \ntwo\n')).toEqual(['one', 'two']);
  });

  it('decodes a multi-byte character split between chunks', () => {
    const bytes = Buffer.from('{"desc":"Größe"}\n');
    const reader = new LineReader();
    const cut = bytes.indexOf(0xc3) + 1; // inside "ö"
    expect(reader.push(bytes.subarray(0, cut))).toEqual([]);
    expect(reader.push(bytes.subarray(cut))).toEqual(['{"desc":"Größe"}']);
  });

  it('never hands out an unterminated tail as a line', () => {
    const reader = new LineReader();
    expect(reader.push('{"half": ')).toEqual([]);
    expect(reader.pending).toBe('{"half": ');
  });

  it('refuses a line longer than its limit', () => {
    const reader = new LineReader(8);
    expect(() => reader.push('0123456789')).toThrow(LineTooLongError);
    expect(reader.push('ok\n')).toEqual(['ok']);
  });
});
