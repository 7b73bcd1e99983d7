/**
 * The user cache of authentication: a looked-up user is trusted for USER_CACHE_SECONDS, an
 * unknown name for at most 3 s, nothing with 0; time comes from a controllable clock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Authenticator } from '../src/auth/authenticator';
import { sha512Hex } from '../src/auth/tokens';
import { withStore } from './helpers';

const COMMUNITY = { username: 'community-01-user', token: 'community-token' };

class TestClock {
  ms = 1_000_000;
  now(): number {
    return this.ms;
  }
}

const user = (peerName: string, token: string) => ({ peerName, tokenHash: sha512Hex(token), community: false, getOnly: false, email: '' });

describe('authenticator user cache', () => {
  it('a removed user is honoured until its cached lifetime ends, then refused', async () => {
    await withStore(async (store) => {
      const clock = new TestClock();
      const auth = new Authenticator(store, COMMUNITY, 30_000, clock);
      await store.putUser(user('alice', 'secret'));
      assert.equal((await auth.authenticate('alice', 'secret'))?.domain, 'private');
      await store.removeUser('alice');
      clock.ms += 29_000;
      assert.equal((await auth.authenticate('alice', 'secret'))?.peerName, 'alice', 'still cached');
      assert.equal(await auth.authenticate('alice', 'wrong'), null, 'the cached token hash is still checked');
      clock.ms += 1_001;
      assert.equal(await auth.authenticate('alice', 'secret'), null, 'expired: read again, gone');
    });
  });

  it('an unknown name is remembered at most 3 s: a user added meanwhile gets in after that', async () => {
    await withStore(async (store) => {
      const clock = new TestClock();
      const auth = new Authenticator(store, COMMUNITY, 30_000, clock);
      assert.equal(await auth.authenticate('bob', 'token'), null);
      await store.putUser(user('bob', 'token'));
      clock.ms += 2_999;
      assert.equal(await auth.authenticate('bob', 'token'), null, 'absence still cached');
      clock.ms += 2;
      assert.equal((await auth.authenticate('bob', 'token'))?.peerName, 'bob');
    });
  });

  it('USER_CACHE_SECONDS=0 keeps nothing: every question reads the store', async () => {
    await withStore(async (store) => {
      const auth = new Authenticator(store, COMMUNITY, 0, new TestClock());
      await store.putUser(user('carol', 'token'));
      assert.equal((await auth.authenticate('carol', 'token'))?.peerName, 'carol');
      await store.removeUser('carol');
      assert.equal(await auth.authenticate('carol', 'token'), null);
    });
  });

  it('the community credentials never touch the store', async () => {
    await withStore(async (store) => {
      const auth = new Authenticator(store, COMMUNITY, 30_000, new TestClock());
      assert.deepEqual(await auth.authenticate(COMMUNITY.username, COMMUNITY.token), { domain: 'community', peerName: COMMUNITY.username });
      assert.equal(await auth.authenticate(COMMUNITY.username, 'other'), null);
    });
  });
});
