/** The repository's copy of the security test ids matches ../shared/docs/security-tests.md when that is present. */
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { idsInTestName, idsOfTest, parseSecurityTestIds, SECURITY_TEST_IDS } from './ids';

const doc = path.resolve(import.meta.dirname, '../../../shared/docs/security-tests.md');

it.skipIf(!fs.existsSync(doc))('the copy of the id list in test/security/ids.ts has exactly the ids of security-tests.md', () => {
  expect(Object.keys(SECURITY_TEST_IDS).sort()).toEqual(Object.keys(parseSecurityTestIds(fs.readFileSync(doc, 'utf8'))).sort());
});

it('finds ids as words in test names, and only there', () => {
  const ids = Object.keys(SECURITY_TEST_IDS);
  expect(idsInTestName('A1 token for another audience', ids)).toEqual(['A1']);
  expect(idsInTestName('D2: the default interval', ids)).toEqual(['D2']);
  expect(idsInTestName('keeps tokens out of storage (X4)', ids)).toEqual(['X4']);
  expect(idsInTestName('E1/E2: step-up', ids)).toEqual(['E1', 'E2']);
  expect(idsInTestName('A10 DPoP replay', ids)).toEqual(['A10']);
  expect(idsInTestName('uses SHA256 and a B12 thing, BA1', ids)).toEqual([]);
});

it('takes the ids of the test itself, else of its describe, never of a range', () => {
  const ids = Object.keys(SECURITY_TEST_IDS);
  expect(idsOfTest('F2 FGA slow', ['F1-F4'], ids)).toEqual(['F2']);
  expect(idsOfTest('keeps Auth0’s charset', ['binding messages (D7)'], ids)).toEqual(['D7']);
  expect(idsOfTest('some helper test', ['F1-F4'], ids)).toEqual([]);
});
