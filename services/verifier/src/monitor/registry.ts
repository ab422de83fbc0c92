// The registry as of a log index, built only from notices the monitor verified
// (DESIGN §5 notices; the same rules as the engine's step 3 in core verify.ts):
// party and key notices count when signed by the trusted authority key; a key
// revocation by the authority or by the key's party with another of its keys; a
// recall by a commissioning party owning the GTIN's prefix. Keys carry the
// indexes of their notices; parties are looked up as of an index (`partyAt`):
// notices are applied as they are read, ahead of the records before them that
// are still waiting for their signatures.
import { COMMISSIONING_ROLES, fromBase64Url, type Notice, type PartyInfo } from '@provenant/core';
import type { VerifiedKey, VerifiedNotice, VerifiedParty } from '@provenant/store';

export class Registry {
  readonly keys = new Map<string, VerifiedKey>();
  readonly parties = new Map<string, VerifiedParty>();
  /** changed since the last `takeDirty` */
  private dirtyKeys = new Set<string>();
  private dirtyParties = new Set<string>();
  /** notices applied since the last `takeDirty`, in log order */
  private dirtyNotices: VerifiedNotice[] = [];
  /** party changes not yet settled, oldest first: what each replaced (undone by `partyAt`) */
  private partyChanges: { index: number; gln: string; before: VerifiedParty | undefined }[] = [];

  constructor(keys: readonly VerifiedKey[] = [], parties: readonly VerifiedParty[] = []) {
    for (const k of keys) this.keys.set(k.kid, k);
    for (const p of parties) this.parties.set(p.gln, p);
  }

  /** The party as the notices applied so far make it. */
  party(gln: string): PartyInfo | undefined {
    return this.parties.get(gln);
  }

  /**
   * The party as the notices logged before `index` make it (DESIGN §5: a
   * record is judged by the registry as of its entry, as the engine replays
   * it), for any `index` not below the last `settle`.
   */
  partyAt(gln: string, index: number): PartyInfo | undefined {
    let p = this.parties.get(gln);
    for (let i = this.partyChanges.length - 1; i >= 0 && this.partyChanges[i]!.index >= index; i--)
      if (this.partyChanges[i]!.gln === gln) p = this.partyChanges[i]!.before;
    return p;
  }

  /** No lookup will be as of an index below `index` again: forgets the changes before it. */
  settle(index: number): void {
    let n = 0;
    while (n < this.partyChanges.length && this.partyChanges[n]!.index < index) n++;
    if (n > 0) this.partyChanges.splice(0, n);
  }

  /** A key usable for an entry logged at `index`: registered before it, not revoked or suspended then. */
  usableAt(k: VerifiedKey, index: number): 'ok' | 'unknown' | 'revoked' {
    if (k.registeredIndex >= index) return 'unknown';
    if (k.revocations.some((r) => r.index < index)) return 'revoked';
    if (k.suspensions.some((s) => s.from < index && (s.to === null || index < s.to)))
      return 'revoked';
    return 'ok';
  }

  /** The public key that may sign `notice` logged at `index` with `keyid`, or null (no notice at all). */
  noticeSigner(
    notice: Notice,
    keyid: string,
    index: number,
    authority: { kid: string; publicKey: Uint8Array },
  ): Uint8Array | null {
    if (notice.actor === 'authority') return keyid === authority.kid ? authority.publicKey : null;
    const k = this.keys.get(keyid);
    return k && k.gln === notice.actor && this.usableAt(k, index) === 'ok' ? k.publicKey : null;
  }

  /**
   * Applies a notice whose signature verified; false when the rules make it no
   * notice (ignored). One that counts is listed for verifier_notices.
   */
  apply(n: Notice, index: number): boolean {
    if (!this.applyRule(n, index)) return false;
    const d = n.data as { gln?: string; kid?: string; gtin?: string };
    this.dirtyNotices.push({
      index,
      type: n.type,
      gln: d.gln ?? null,
      kid: d.kid ?? null,
      gtin: d.gtin ?? null,
    });
    return true;
  }

  private applyRule(n: Notice, index: number): boolean {
    switch (n.type) {
      case 'party': {
        const cur = this.parties.get(n.data.gln);
        this.setParty(
          {
            gln: n.data.gln,
            roles: [...n.data.roles],
            prefixes: [...n.data.prefixes],
            status: cur?.status ?? 'active',
          },
          index,
        );
        return true;
      }
      case 'party-suspend':
      case 'party-reinstate': {
        const cur = this.parties.get(n.data.gln);
        if (!cur) return false;
        this.setParty(
          { ...cur, status: n.type === 'party-suspend' ? 'suspended' : 'active' },
          index,
        );
        return true;
      }
      case 'key': {
        const raw = fromBase64Url(n.data.publicKey);
        if (!raw || this.keys.has(n.data.kid)) return false; // first registration of a kid wins
        this.setKey({
          kid: n.data.kid,
          gln: n.data.gln ?? null,
          publicKey: raw,
          registeredIndex: index,
          revocations: [],
          suspensions: [],
        });
        return true;
      }
      case 'key-suspend': {
        const k = this.keys.get(n.data.kid);
        if (!k || k.suspensions.some((s) => s.to === null)) return false;
        this.setKey({ ...k, suspensions: [...k.suspensions, { from: index, to: null }] });
        return true;
      }
      case 'key-reinstate': {
        const k = this.keys.get(n.data.kid);
        if (!k || !k.suspensions.some((s) => s.to === null)) return false;
        this.setKey({
          ...k,
          suspensions: k.suspensions.map((s) => (s.to === null ? { ...s, to: index } : s)),
        });
        return true;
      }
      case 'key-revoke': {
        const k = this.keys.get(n.data.kid);
        if (!k) return false;
        if (n.actor !== 'authority' && (k.gln !== n.actor || n.data.kid === n.kid)) return false;
        this.setKey({
          ...k,
          revocations: [...k.revocations, { index, compromisedAt: n.data.compromisedAt }],
        });
        return true;
      }
      case 'recall': {
        const p = this.parties.get(n.actor);
        const body = n.data.gtin.slice(1);
        return (
          !!p &&
          p.roles.some((r) => COMMISSIONING_ROLES.has(r)) &&
          p.prefixes.some((x) => body.startsWith(x))
        );
      }
    }
  }

  private setKey(k: VerifiedKey): void {
    this.keys.set(k.kid, k);
    this.dirtyKeys.add(k.kid);
  }

  private setParty(p: VerifiedParty, index: number): void {
    this.partyChanges.push({ index, gln: p.gln, before: this.parties.get(p.gln) });
    this.parties.set(p.gln, p);
    this.dirtyParties.add(p.gln);
  }

  /** Keys and parties changed, and notices applied, since the last call. */
  takeDirty(): { keys: VerifiedKey[]; parties: VerifiedParty[]; notices: VerifiedNotice[] } {
    const out = {
      keys: [...this.dirtyKeys].map((k) => this.keys.get(k)!),
      parties: [...this.dirtyParties].map((g) => this.parties.get(g)!),
      notices: this.dirtyNotices,
    };
    this.dirtyKeys.clear();
    this.dirtyParties.clear();
    this.dirtyNotices = [];
    return out;
  }
}
