# The membrane: the one door into a running Patina Mother.
#
# A connection's bootstrap capability is a `Terminal`. A caller proves which
# Ed25519 key it holds (challenge, then login) and is handed a `Membrane`
# attenuated by the Mother's policy for that key; `graft()` lists what it may
# use. Every capability is issued under the Mother's epoch: after the epoch
# advances, each older one fails with `[stale-epoch]` and its holder logs in
# again.
#
# Errors. A refused or failed call is a Cap'n Proto exception whose
# description starts with its stable kind in brackets, e.g.
# `[denied] runner may not call receipts.export`, `[stale-epoch] ...`,
# `[grant-above-ceiling] fs:/srv:rw is above the ceiling fs:/srv/data:ro`,
# or one of the Mother's own kinds (`[unknown-child] ...`, `[out-of-fuel] ...`).
#
# Payloads. The Mother's wire types (RunSpec, RunSummary, ReplaySummary,
# Installed, the child list, a child's description, receipts) are already
# serde types with a documented JSON shape that `mother --json` prints; the
# methods below carry them as JSON text (`...Json :Text`) or as the receipts'
# canonical export encoding (`:Data`) instead of duplicating each one as a
# Cap'n Proto struct. The login and everything the membrane itself decides
# are Cap'n Proto structs.

@0xca00ed8815e54d78;

# The domain string a login signature is made under.
const loginDomain :Text = "patina membrane login v1";

struct Challenge {
  nonce @0 :Data;        # 32 fresh random bytes, good for one login
  epoch @1 :UInt64;      # the Mother's current epoch
  serverId @2 :Data;     # the Mother's Ed25519 public key (32 bytes)
  domain @3 :Text;       # = loginDomain
  expiresInMs @4 :UInt32;# how long the nonce stays good
}

struct LoginRequest {
  key @0 :Data;          # the caller's Ed25519 public key (32 bytes)
  nonce @1 :Data;
  epoch @2 :UInt64;
  serverId @3 :Data;
  # Ed25519 over domain ‖ nonce ‖ epoch (8 bytes, big endian) ‖ serverId.
  signature @4 :Data;
}

# Fail closed: the zero value is "not granted".
enum LoginStatus {
  notGranted @0;
  granted @1;
  badSignature @2;       # no valid signature by `key` over the login message
  badRequest @3;         # a field of the wrong size
  unknownNonce @4;       # never issued here, or already used (a replayed login)
  expiredNonce @5;       # issued, but too long ago
  wrongServer @6;        # signed for another Mother
  staleEpoch @7;         # signed for another epoch
  unknownKey @8;         # the policy knows no such caller
}

struct LoginResult {
  status @0 :LoginStatus;
  reason @1 :Text;
  role @2 :Text;         # the caller's role, when granted
  membrane @3 :Membrane; # null unless granted
}

interface Terminal {
  challenge @0 () -> (challenge :Challenge);
  login @1 (request :LoginRequest) -> (result :LoginResult);
}

struct Export {
  name @0 :Text;         # "runtime", "receipts", "epoch", "network"
  union {
    runtime @1 :Runtime;
    receipts @2 :Receipts;
    epoch @3 :Epoch;
    network @4 :Network;
  }
}

interface Membrane {
  graft @0 () -> (exports :List(Export));
  # The caller's role and what it may do, as JSON (docs/policy.md).
  explain @1 () -> (json :Text);
}

interface Runtime {
  # Installs component bytes (stored by digest), optionally under a name with
  # install grants. `installedJson`: patina_mother::Installed.
  install @0 (bytes :Data, name :Text, grants :List(Text)) -> (installedJson :Text);
  # The installed children this caller may see (JSON list of InstalledChild).
  list @1 () -> (childrenJson :Text);
  # A child's imports (with how this Mother serves each) and exports with WIT
  # types: {child, size, command, imports, exports, wit}.
  describe @2 (child :Text) -> (descriptionJson :Text);
  # One run (`specJson`: RunSpec; a `file` child is refused). The summary
  # (RunSummary) with the run's raw stdout and stderr, and the signed receipt
  # in its export encoding (empty for a live run).
  run @3 (specJson :Text) -> (summaryJson :Text, stdout :Data, stderr :Data,
                              logsDropped :UInt64, receipt :Data);
}

interface Receipts {
  # One receipt (id or unique prefix) with its blobs, in the export encoding.
  get @0 (id :Text) -> (export :Data);
  # Receipts newest first, each in the export encoding: of `child` if not
  # empty, of `caller` (a receipt header's caller id, e.g. `token:…`) if not
  # empty, at most `limit` (0: no limit). A role that sees only its own
  # receipts gets only those whose header names it.
  list @1 (child :Text, limit :UInt32, caller :Text) -> (receipts :List(Data));
  # Signature, hashes and chain link.
  verify @2 (id :Text) -> (receipt :Data, link :Text);
  # = get (kept separate so a policy can allow one without the other).
  export @3 (id :Text) -> (export :Data);
  # Replays a stored receipt here. `summaryJson`: ReplaySummary.
  replay @4 (id :Text) -> (summaryJson :Text, stdout :Data, stderr :Data,
                           unrecorded :List(Text));
}

interface Epoch {
  current @0 () -> (epoch :UInt64);
  # Returns once the epoch is above `after` (at once if it already is).
  watch @1 (after :UInt64) -> (epoch :UInt64);
}

# The network of peer Mothers this Mother is on (`mother serve --listen`),
# for a caller whose role lists `network.*` methods (built in: `admin` only).
# A Mother that serves no peers answers every call with `[not-on-network]`.
# A peer is named by its peer id or by a multiaddr (`/ip4/…/tcp/…/p2p/<id>`).
interface Network {
  # This node and its connected peers, as JSON:
  # {peer_id, listen: [addr], peers: [{peer, addresses, listen_addrs, rtt_ms}]}.
  info @0 () -> (json :Text);
  # Peers the DHT names as providers of the child (an installed name, an id
  # or a unique id prefix held here, or a full `b3:` id), at most `limit`.
  find @1 (child :Text, limit :UInt32) -> (providers :List(Text));
  # Runs on `peer` under the peer's own policy (`specJson`: RunSpec naming an
  # installed child or a `b3:` id; the peer fetches bytes it lacks). Answers
  # as Runtime.run, with the peer's signed receipt, which has been verified
  # (signer = the peer that answered) and imported here.
  run @2 (peer :Text, specJson :Text) -> (summaryJson :Text, stdout :Data, stderr :Data,
                                          logsDropped :UInt64, receipt :Data);
  # Offers the bytes of a child held here to `peer` (its Runtime.install, by
  # digest). `installedJson`: patina_mother::Installed as the peer answered.
  push @3 (child :Text, peer :Text) -> (installedJson :Text);
}
