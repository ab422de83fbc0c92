// primaryUrlFrom: the primary's URL from a standby's WAL receiver (DESIGN §7b):
// the standby URL's credentials, database and options, the sender's address.
import { describe, expect, it } from '@jest/globals';
import { primaryUrlFrom } from './replica.js';

const STANDBY = 'postgres://verifier:s3cret@10.0.0.2:5433/provenant?sslmode=require';

describe('primaryUrlFrom', () => {
  it('keeps user, password, database and options, and takes the sender’s host and port', () => {
    expect(primaryUrlFrom({ host: '10.0.0.1', port: 5432 }, STANDBY)).toBe(
      'postgres://verifier:s3cret@10.0.0.1:5432/provenant?sslmode=require',
    );
  });

  it('brackets an IPv6 sender', () => {
    expect(primaryUrlFrom({ host: '::1', port: 5432 }, STANDBY)).toBe(
      'postgres://verifier:s3cret@[::1]:5432/provenant?sslmode=require',
    );
  });

  it('names none for no sender, a Unix socket, or a standby URL that is not a URL', () => {
    expect(primaryUrlFrom({ host: null, port: null }, STANDBY)).toBeNull();
    expect(primaryUrlFrom({ host: '/var/run/postgresql', port: 5432 }, STANDBY)).toBeNull();
    expect(primaryUrlFrom({ host: '10.0.0.1', port: 5432 }, 'host=10.0.0.2 dbname=x')).toBeNull();
  });
});
