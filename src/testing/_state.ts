// The mock's state: users, codes, tokens, failed logins, the request log and faults.
import type { MockArmorApiOptions, MockDialect, MockRequestRecord, MockUser } from "./_types.ts";
import { MockClock } from "./mock_clock.ts";
import { accountsBody, type Body, meBody } from "./_dialects.ts";
import { FaultQueue } from "./_faults.ts";
import { keyProfiles, PskVerifier } from "./_psk.ts";
import { randomBytes, toHex } from "./_random.ts";
import { type UserProfile, userProfile } from "./_users.ts";

/** A user with the bodies `/me` and `/accounts` answer, in the mock's dialect. */
export interface UserState {
  profile: UserProfile;
  accountIds: Set<string>;
  me: Body;
  accounts: Body[];
}

/** An issued access token. */
export interface TokenState {
  user: UserState;
  expiresAt: number;
  revoked: boolean;
}

/** An authorization code waiting to be redeemed. */
export interface CodeState {
  user: UserState;
  expiresAt: number;
}

/** Failed logins in a row for one user name. */
export interface FailureState {
  count: number;
  /** Until when (mock clock) authorize answers 429; `undefined` while not locked. */
  lockedUntil: number | undefined;
}

/** What the routes keep about a request while it is answered. */
export interface RequestState {
  record: MockRequestRecord;
  /** The raw body bytes, if the request had a body. */
  bytes: Uint8Array<ArrayBuffer> | undefined;
  /** Aborted by the first `abortPending()` after the request arrived. */
  stop: AbortSignal;
}

/** The mock's settings once defaults and checks are applied. */
export interface Settings {
  dialect: MockDialect;
  expiresIn: number;
  tokenLifetimeMs: number;
  codeLifetimeMs: number;
  maxFailedLogins: number;
  lockoutMs: number;
  revokeOnReissue: boolean;
}

/** Everything a mock knows; its routes and its public face share one. */
export class MockState {
  readonly settings: Settings;
  readonly clock: MockClock;
  readonly requests: MockRequestRecord[] = [];
  readonly users = new Map<string, UserState>();
  readonly codes = new Map<string, CodeState>();
  readonly tokens = new Map<string, TokenState>();
  readonly issued: string[] = [];
  readonly faults = new FaultQueue();
  readonly counts = new Map<string, number>();
  readonly failures = new Map<string, FailureState>();
  readonly requestStates = new WeakMap<Request, RequestState>();
  readonly psk: PskVerifier;
  pending = new AbortController();

  /**
   * @throws {TypeError} If two users share a username, the dialect is unknown, or an API
   * key is malformed, repeated or names an unknown user
   * @throws {RangeError} If a number option is not usable
   */
  constructor(options: MockArmorApiOptions, defaultUsers: readonly MockUser[]) {
    const {
      dialect = "openapi",
      users = defaultUsers,
      clock = new MockClock(),
      codeLifetimeMs = 120_000,
      maxFailedLogins = 5,
      lockoutMs = 60_000,
      revokeOnReissue = false,
      apiKeys = [],
    } = options;
    if (dialect !== "powershell" && dialect !== "openapi") {
      throw new TypeError(`Unknown dialect "${dialect}": use "powershell" or "openapi"`);
    }
    const { expiresIn = dialect === "powershell" ? 15 : 900 } = options;
    if (!Number.isFinite(expiresIn)) {
      throw new RangeError(`Option expiresIn must be a finite number, got ${expiresIn}`);
    }
    if (!Number.isFinite(codeLifetimeMs) || codeLifetimeMs < 0) {
      throw new RangeError(
        `Option codeLifetimeMs must be a finite number >= 0, got ${codeLifetimeMs}`,
      );
    }
    if (
      !(maxFailedLogins === Infinity || (Number.isInteger(maxFailedLogins) && maxFailedLogins >= 1))
    ) {
      throw new RangeError(
        `Option maxFailedLogins must be an integer >= 1 or Infinity, got ${maxFailedLogins}`,
      );
    }
    if (!Number.isFinite(lockoutMs) || lockoutMs < 0) {
      throw new RangeError(`Option lockoutMs must be a finite number >= 0, got ${lockoutMs}`);
    }
    this.settings = {
      dialect,
      expiresIn,
      tokenLifetimeMs: expiresIn <= 120 ? expiresIn * 60_000 : expiresIn * 1_000,
      codeLifetimeMs,
      maxFailedLogins,
      lockoutMs,
      revokeOnReissue,
    };
    this.clock = clock;
    users.forEach((user, index) => {
      if (this.users.has(user.username)) {
        throw new TypeError(`Duplicate mock user "${user.username}": give each user its own name`);
      }
      const profile = userProfile(user, index);
      this.users.set(user.username, {
        profile,
        accountIds: new Set(profile.accounts.map((account) => String(account.id))),
        me: meBody(dialect, profile),
        accounts: accountsBody(profile),
      });
    });
    this.psk = new PskVerifier(keyProfiles(apiKeys, this.users));
  }

  /** The token's state if it was issued, is not revoked and has not expired. */
  liveToken(token: string): TokenState | undefined {
    const state = this.tokens.get(token);
    if (state === undefined || state.revoked || this.clock.now() >= state.expiresAt) {
      return undefined;
    }
    return state;
  }

  /** Issues a new access token for a user. */
  issueToken(user: UserState): string {
    const token = toHex(randomBytes(16));
    this.tokens.set(token, {
      user,
      expiresAt: this.clock.now() + this.settings.tokenLifetimeMs,
      revoked: false,
    });
    this.issued.push(token);
    return token;
  }

  /** Ends the waits of every request received so far. */
  abortPending(): void {
    this.pending.abort();
    this.pending = new AbortController();
  }

  /** Forgets requests, codes, tokens, failed logins, nonces and faults. */
  reset(): void {
    this.requests.length = 0;
    this.counts.clear();
    this.codes.clear();
    this.tokens.clear();
    this.issued.length = 0;
    this.failures.clear();
    this.psk.clear();
    this.faults.clear();
  }
}
