/**
 * A sandbox's log text (local/sandbox-log.ts): writes to a real stream decoded across writes,
 * cut into lines, and a last line without its newline handed over when the invocation ends.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { forwardWrites, LogLines } from '../../local/sandbox-log.ts';

const capture = () => {
  const lines: string[] = [];
  const stream = new PassThrough();
  const cutter = new LogLines((line) => lines.push(line));
  const writer = forwardWrites(stream, (text) => cutter.take(text));
  const end = () => {
    writer.flush();
    cutter.flush();
  };
  return { stream, lines, end };
};

describe('a sandbox log', () => {
  it('keeps a UTF-8 character whole when a write ends in its middle', () => {
    const { stream, lines, end } = capture();
    const bytes = Buffer.from('{"message":"café 📷 analyzed"}\n', 'utf8');
    // Cut inside "é" (2 bytes) and inside the camera emoji (4 bytes).
    const cuts = [bytes.indexOf(0xc3) + 1, bytes.indexOf(0xf0) + 2];
    stream.write(bytes.subarray(0, cuts[0]));
    stream.write(new Uint8Array(bytes.subarray(cuts[0], cuts[1])));
    stream.write(bytes.subarray(cuts[1]));
    end();
    expect(lines).toEqual(['{"message":"café 📷 analyzed"}']);
  });

  it('delivers a last line without its newline when the invocation ends', () => {
    const { stream, lines, end } = capture();
    stream.write('first\nsec');
    stream.write(Buffer.from('ond\r\nno newline'));
    expect(lines).toEqual(['first', 'second']);
    end();
    expect(lines).toEqual(['first', 'second', 'no newline']);
    end();
    expect(lines).toHaveLength(3);
  });

  it('ends a character cut short at the end of an invocation with U+FFFD, not silence', () => {
    const { stream, lines, end } = capture();
    stream.write(Buffer.from([0x61, 0xe2, 0x82]));
    end();
    expect(lines).toEqual(['a\uFFFD']);
  });

  it('writes a string in the encoding given and calls the write callback', async () => {
    const { stream, lines, end } = capture();
    const written = new Promise<void>((resolve) =>
      stream.write(Buffer.from('hé\n').toString('base64'), 'base64', () => resolve()),
    );
    await written;
    end();
    expect(lines).toEqual(['hé']);
  });
});
