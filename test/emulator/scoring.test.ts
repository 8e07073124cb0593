import { describe, expect, it } from 'vitest';
import { bm25, cosine, embed, EMBEDDING_DIMS, tokenize } from '../../src/emulator/search.js';
import { splitSentences } from '../../src/emulator/pipeline.js';
import { isUUID, nameUUID, uuidv7, uuidv7Time } from '../../src/emulator/ids.js';

describe('splitSentences', () => {
  it('splits after . ! ? followed by whitespace or the end, trims, drops empties', () => {
    expect(splitSentences('  One. Two!  Three?\nFour')).toEqual(['One.', 'Two!', 'Three?', 'Four']);
    expect(splitSentences('Pi is 3.14 exactly. Done.')).toEqual(['Pi is 3.14 exactly.', 'Done.']);
    expect(splitSentences('   \n ')).toEqual([]);
    expect(splitSentences('... !?')).toEqual([]);
  });
});

describe('bm25', () => {
  it('is zero without overlap and positive with it', () => {
    const s = bm25('tea', ['i like tea', 'i like coffee']);
    expect(s[0]).toBeGreaterThan(0);
    expect(s[1]).toBe(0);
  });

  it('weighs rare terms more (IDF) and saturates term frequency (k1)', () => {
    const docs = ['common rare', 'common', 'common', 'common'];
    const [rare] = bm25('rare', docs);
    const [common] = bm25('common', docs);
    expect(rare).toBeGreaterThan(common!);
    const [one, two, ten] = bm25('tea', ['tea x x x x x x x x x', 'tea tea x x x x x x x x', 'tea tea tea tea tea tea tea tea tea tea']);
    expect(two! / one!).toBeLessThan(2);
    const idf = Math.log(1 + 0.5 / 3.5); // N = 3 documents, all contain "tea"
    expect(ten).toBeLessThan(idf * (1.2 + 1)); // saturation: bounded by idf·(k1+1)
    expect(ten).toBeGreaterThan(two!);
  });

  it('normalises by length (b): the shorter of two documents with the same tf scores higher', () => {
    const [short, long] = bm25('tea', ['tea time', 'tea and a very long story about many other things']);
    expect(short).toBeGreaterThan(long!);
    const [s0, l0] = bm25('tea', ['tea time', 'tea and a very long story about many other things'], 1.2, 0);
    expect(s0).toBeCloseTo(l0!, 10);
  });

  it('never goes negative, even for a term in every document', () => {
    for (const s of bm25('the', ['the a', 'the b', 'the c'])) expect(s).toBeGreaterThan(0);
  });
});

describe('embed / cosine', () => {
  it('is deterministic, fixed-size and unit length', () => {
    const a = embed('The user likes green tea');
    expect(a).toHaveLength(EMBEDDING_DIMS);
    expect(Math.hypot(...a)).toBeCloseTo(1, 10);
    expect([...embed('The user likes green tea')]).toEqual([...a]);
    expect(cosine(a, a)).toBeCloseTo(1, 10);
  });

  it('scores related text above unrelated text, within [0, 1]', () => {
    const q = embed('green teas');
    const related = cosine(q, embed('the user drinks green tea'));
    const unrelated = cosine(q, embed('quarterly revenue forecast'));
    expect(related).toBeGreaterThan(unrelated);
    expect(unrelated).toBeGreaterThanOrEqual(0);
    expect(related).toBeLessThanOrEqual(1);
    expect(cosine(embed(''), q)).toBe(0);
  });

  it('tokenizes letters and digits in any script', () => {
    expect(tokenize('Ça va? 42 façons, ДА!')).toEqual(['ça', 'va', '42', 'façons', 'да']);
  });
});

describe('ids', () => {
  it('uuidv7 carries the millisecond timestamp and is random otherwise', () => {
    const t = Date.parse('2026-12-03T10:00:00.123Z');
    const a = uuidv7(t);
    expect(isUUID(a)).toBe(true);
    expect(a[14]).toBe('7');
    expect(uuidv7Time(a)).toBe(t);
    expect(uuidv7(t)).not.toBe(a);
  });

  it('nameUUID is stable per name and differs across names', () => {
    expect(nameUUID('a', 'b')).toBe(nameUUID('a', 'b'));
    expect(nameUUID('a', 'b')).not.toBe(nameUUID('ab'));
    expect(nameUUID('x')[14]).toBe('5');
  });
});
