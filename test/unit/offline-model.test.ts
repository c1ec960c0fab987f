import { describe, expect, it } from 'vitest';
import { keywords, offlineReply, summarize, toChunks } from '../../backend/emulators/model/offline-model';

describe('offline model', () => {
  it('answers the same conversation the same way', () => {
    const convo = [{ role: 'user' as const, content: 'How do I rotate signing keys safely?' }];
    expect(offlineReply(convo)).toBe(offlineReply(convo));
  });

  it('answers from what the user wrote, not from a fixed script', () => {
    const a = offlineReply([{ role: 'user', content: 'Tell me about kubernetes ingress controllers' }]);
    const b = offlineReply([{ role: 'user', content: 'Compare postgres replication modes' }]);
    expect(a).toContain('kubernetes');
    expect(b).toContain('postgres');
    expect(a).not.toBe(b);
  });

  it('remembers what the user said earlier in the conversation', () => {
    const reply = offlineReply([
      { role: 'user', content: 'Hi, my name is Grace' },
      { role: 'assistant', content: 'Nice to meet you, Grace.' },
      { role: 'user', content: 'What is my name?' },
    ]);
    expect(reply).toContain('Grace');
  });

  it('summarizes pasted text extractively', () => {
    const text =
      'Passkeys replace passwords with public-key credentials. The private key never leaves the device. ' +
      'Servers store only public keys, so a breach leaks nothing reusable. Phishing fails because passkeys are bound to the site origin. ' +
      'Adoption is growing across browsers and operating systems.';
    const reply = offlineReply([{ role: 'user', content: `Summarize this: ${text}` }]);
    expect(reply).toMatch(/Summary/);
    expect(reply).toContain('passkeys');
    expect(summarize(text).length).toBeLessThan(text.length + 200);
  });

  it('streams a reply as chunks that join back to the whole', () => {
    const reply = offlineReply([{ role: 'user', content: 'What can you do?' }]);
    expect(toChunks(reply).join('')).toBe(reply);
    expect(toChunks(reply).length).toBeGreaterThan(10);
  });

  it('ranks keywords by frequency and ignores stopwords', () => {
    expect(keywords('the token the token vault and the vault token', 2)).toEqual(['token', 'vault']);
  });
});
