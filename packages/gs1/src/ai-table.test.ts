import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { AI_DEFINITIONS, DICTIONARY_RELEASE } from './ai-table.js';
import { getAiDefinition, validateAiValue } from './ai.js';
import { parseDictionary } from './dictionary.js';
import { Gs1Error } from './errors.js';
import { vectorPath } from '../../../tests/support/paths.js';

const dictionaryText = readFileSync(vectorPath('gs1', 'gs1-syntax-dictionary.txt'), 'utf8');

describe('the generated AI table', () => {
  it('is exactly what the generator derives from the shared dictionary (no drift)', () => {
    const parsed = parseDictionary(dictionaryText);
    expect(DICTIONARY_RELEASE).toBe(parsed.release);
    expect(AI_DEFINITIONS).toEqual(parsed.ais);
  });

  it('holds every AI of the dictionary, prefix-free so unbracketed data splits unambiguously', () => {
    const ais = AI_DEFINITIONS.map((d) => d.ai);
    expect(new Set(ais).size).toBe(ais.length);
    const clashes = ais.flatMap((a) => ais.filter((b) => a !== b && b.startsWith(a)));
    expect(clashes).toEqual([]);
  });

  it.each([
    '00',
    '01',
    '02',
    '10',
    '11',
    '12',
    '13',
    '15',
    '16',
    '17',
    '20',
    '21',
    '22',
    '30',
    '37',
    '240',
    '241',
    '250',
    '400',
    '401',
    '402',
    '410',
    '411',
    '412',
    '413',
    '414',
    '415',
    '7003',
    '7230',
    '7239',
    '8003',
    '8004',
    '8006',
    '8010',
    '8020',
    '3103',
    '91',
    '99',
  ])('defines AI %s', (ai) => expect(getAiDefinition(ai)).toBeDefined());

  it('records lengths, predefined-length flags and Digital Link keys', () => {
    expect(getAiDefinition('01')).toMatchObject({
      predefinedLength: true,
      minLength: 14,
      maxLength: 14,
      dlPrimaryKey: [['22', '10', '21'], ['235']],
    });
    expect(getAiDefinition('21')).toMatchObject({
      predefinedLength: false,
      minLength: 1,
      maxLength: 20,
    });
    expect(getAiDefinition('8006')).toMatchObject({
      predefinedLength: false,
      minLength: 18,
      maxLength: 18,
    });
    expect(getAiDefinition('253')).toMatchObject({ minLength: 13, maxLength: 30 });
    expect(getAiDefinition('17')!.components[0]!.linters).toContain('yymmd0');
    expect(getAiDefinition('8010')!.components[0]!.type).toBe('Y');
  });
});

describe('validateAiValue', () => {
  const code = (ai: string, value: string): string | undefined => {
    try {
      validateAiValue(ai, value);
      return undefined;
    } catch (e) {
      expect(e).toBeInstanceOf(Gs1Error);
      expect((e as Gs1Error).ai).toBe(ai);
      return (e as Gs1Error).code;
    }
  };

  it.each([
    ['01', '09506000134352', undefined],
    ['01', '09506000134353', 'BAD_CHECK_DIGIT'],
    ['01', '0950600013435', 'BAD_LENGTH'],
    ['00', '106141412345678908', undefined],
    ['414', '0614141000005', undefined],
    ['21', 'ABC/1!"%&\'()*+,-.:;<=>?_z', 'BAD_LENGTH'],
    ['21', 'ABC/1!"%&\'()*+,-.:;', undefined],
    ['21', 'ABC 1', 'ILLEGAL_CHARACTER'],
    ['21', 'ABC#1', 'ILLEGAL_CHARACTER'],
    ['21', 'ÄBC', 'ILLEGAL_CHARACTER'],
    ['10', '', 'BAD_LENGTH'],
    ['8010', '0541234537290A41#GH33', undefined],
    ['8010', '0541234537290a41', 'ILLEGAL_CHARACTER'],
    ['17', '240229', undefined],
    ['17', '230229', 'BAD_DATE'],
    ['17', '240200', undefined],
    ['17', '241301', 'BAD_DATE'],
    ['7006', '240200', 'BAD_DATE'],
    ['7003', '2412312359', undefined],
    ['7003', '2412312460', 'BAD_DATE'],
    ['8013', '12345678901234MS', undefined],
    ['8013', '12345678901234MT', 'BAD_CHECK_DIGIT'],
    ['8003', '14965031954585', 'BAD_VALUE'],
    ['4321', '2', 'BAD_VALUE'],
    ['99', 'x'.repeat(91), 'BAD_LENGTH'],
    ['98', 'x'.repeat(90), undefined],
    ['49', '1', 'UNKNOWN_AI'],
  ])('AI (%s) %j -> %s', (ai, value, expected) => {
    expect(code(ai, value)).toBe(expected);
  });
});
