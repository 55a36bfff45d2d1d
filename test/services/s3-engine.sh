#!/usr/bin/env bash
# test/services/s3-engine.sh — a real S3 server (Ceph RADOS Gateway, Debian bookworm
# packages only) for test suites: one mon + one OSD + radosgw, all on 127.0.0.1,
# no Docker, no systemd, no disk device, ~2 s to start once the packages are in.
#
#   s3-engine.sh [start]  install packages if missing, start a FRESH cluster
#                               (or reuse a running one), print the env line
#   s3-engine.sh stop     SIGTERM the daemons this script started, by PID (<1 s)
#   s3-engine.sh kill     SIGKILL them, by PID (nothing is kept anyway)
#   s3-engine.sh status   exit 0 if our radosgw is running and answering
#   s3-engine.sh env      print the env line only
#   s3-engine.sh run -- CMD   start, run CMD (its test files share the engine), stop; CMD's exit code
#
# Env line (stdout, one line, eval-able; progress goes to stderr):
#   S3_ENDPOINT=http://127.0.0.1:19500 S3_ACCESS_KEY=... S3_SECRET_KEY=... S3_REGION=us-east-1
#   (+ S3_BUCKET=name when S3_ENGINE_BUCKET is set)
#
# Knobs (environment):
#   S3_ENGINE_DIR      scratch dir, wiped on every fresh start (default /tmp/wsfu-s3-engine/cluster)
#   S3_ENGINE_PORT     S3 port, beast frontend      (default 19600; the tests pick a free one)
#   S3_ENGINE_MON_PORT mon msgr2 port; msgr1 = +1   (default 19601)
#   S3_ENGINE_OSD_PORT first of 8 OSD ports          (default 19610; Ceph's own default 6800 would collide
#                                                    with any other cluster on the machine)
#   S3_ENGINE_STORE    memstore  (default; object data lives in the OSD's RAM, ~1 s OSD start)
#                      bluestore (data in a sparse 20 GiB file in the scratch dir, ~5 s OSD start)
#   S3_ENGINE_BUCKET   create this bucket before returning
#   S3_ENGINE_ACCESS_KEY / S3_ENGINE_SECRET_KEY   fixed test credentials
#
# Must run as root (apt-get, and the ceph daemons are started as root).
# Client notes (Ceph 16 "pacific" RGW):
#   * region must be us-east-1 (other regions make the SDK send a LocationConstraint
#     that RGW rejects), use path-style addressing (forcePathStyle: true);
#   * @aws-sdk/client-s3 >= 3.729 must be built with
#     requestChecksumCalculation: 'WHEN_REQUIRED' (+ responseChecksumValidation:
#     'WHEN_REQUIRED'): the default sends stream bodies as aws-chunked with a
#     trailing CRC32, which this RGW answers with 411 MissingContentLength;
#   * CompleteMultipartUpload returns an empty <ETag>; HeadObject has the real one.
set -euo pipefail

DIR=${S3_ENGINE_DIR:-/tmp/wsfu-s3-engine/cluster}
PORT=${S3_ENGINE_PORT:-19600}
MON_PORT=${S3_ENGINE_MON_PORT:-19601}
OSD_PORT=${S3_ENGINE_OSD_PORT:-19610}
MON_PORT1=$((MON_PORT + 1))
STORE=${S3_ENGINE_STORE:-memstore}
BUCKET=${S3_ENGINE_BUCKET:-}
ACCESS_KEY=${S3_ENGINE_ACCESS_KEY:-S3TESTACCESSKEY00001}
SECRET_KEY=${S3_ENGINE_SECRET_KEY:-s3testsecretkey0000000000000000000000001}
ENDPOINT="http://127.0.0.1:${PORT}"
CONF="$DIR/ceph.conf"
PKGS=(ceph-mon ceph-osd radosgw ceph-common curl)
# Kept from the spike behind ../shared/tools/s3-engine (README there: every setting below has a reason).
APT_LOG=${TMPDIR:-/tmp}/s3-engine-apt.log

log() { echo "[s3-engine $(date +%T.%3N)] $*" >&2; }
die() { echo "[s3-engine] ERROR: $*" >&2; exit 1; }
envline() {
  if [ -f "$DIR/env" ] && [ "${1:-}" != fresh ]; then cat "$DIR/env"; return; fi
  echo "S3_ENDPOINT=$ENDPOINT S3_ACCESS_KEY=$ACCESS_KEY S3_SECRET_KEY=$SECRET_KEY S3_REGION=us-east-1${BUCKET:+ S3_BUCKET=$BUCKET}"
}

s3_up() { # anonymous GET / answers 200 (empty ListAllMyBuckets)
  local code
  code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$ENDPOINT/" 2>/dev/null || true)
  [ "$code" = 200 ]
}
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# A PID is "ours and running" if it is alive, not a zombie (an orphaned daemon is
# reaped by PID 1, which in some sandboxes takes a second or two) and its
# command line names our ceph.conf (so a recycled PID is never signalled).
ours() {
  local pid=$1
  [ -r "/proc/$pid/cmdline" ] || return 1
  [ "$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -c1)" != Z ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$CONF"
}
pid_alive() { [ -f "$1" ] && ours "$(cat "$1")"; }
ceph_() { ceph -c "$CONF" --connect-timeout 20 "$@"; }

# Run a daemon in the foreground (-f) in its own session; $! is the daemon itself.
spawn() {
  local name=$1; shift
  setsid "$@" </dev/null >>"$DIR/log/$name.out" 2>&1 9>&- &
  echo $! >"$DIR/run/$name.pid"
}

# SIGTERM, wait up to $1 tenths of a second, then SIGKILL.
term_wait() {
  local n=$1 pid i; shift
  for pid in "$@"; do kill "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    for ((i = 0; i < n; i++)); do ours "$pid" || break; sleep 0.1; done
    if ours "$pid"; then log "pid $pid still running, SIGKILL"; kill -9 "$pid" 2>/dev/null || true; fi
  done
}

stop_all() {
  # one at a time, radosgw -> osd -> mon: radosgw and the OSD shut down cleanly
  # only while the cluster/mon is still up (else they sit out 5 s timeouts).
  local name pid i sig=${1:-TERM}
  for name in rgw osd.0 mon.a; do
    if pid_alive "$DIR/run/$name.pid"; then
      pid=$(cat "$DIR/run/$name.pid"); log "stopping $name (pid $pid, SIG$sig)"
      if [ "$sig" = KILL ]; then kill -9 "$pid" 2>/dev/null || true; else term_wait 40 "$pid"; fi
      for ((i = 0; i < 50; i++)); do ours "$pid" || break; sleep 0.1; done
    fi
    rm -f "$DIR/run/$name.pid"
  done
  return 0
}

install_pkgs() {
  local missing=() p
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "need root to apt-get install ${missing[*]}"
  log "apt-get install ${missing[*]} (log: $APT_LOG)"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >"$APT_LOG" 2>&1; then
    log "apt-get install failed; apt-get update and retry"
    apt-get update -q >>"$APT_LOG" 2>&1 || true
    apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$APT_LOG" 2>&1 ||
      die "apt-get install failed, see $APT_LOG"
  fi
}

write_conf() {
  cat >"$CONF" <<EOF
[global]
fsid = $1
mon host = [v2:127.0.0.1:$MON_PORT,v1:127.0.0.1:$MON_PORT1]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind port min = $OSD_PORT
ms bind port max = $((OSD_PORT + 7))
ms bind ipv6 = false
# no cephx: nothing to keep secret on loopback, and no keyrings to manage
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = false
keyring = /dev/null
# with auth=none the daemons' default msgr2 "secure" mode cannot be negotiated
# (radosgw then loops on 'get_initial_auth_request returned -13'): use crc
ms mon client mode = crc
ms mon service mode = crc
ms mon cluster mode = crc
ms client mode = crc
ms service mode = crc
ms cluster mode = crc
run dir = $DIR/run
admin socket = $DIR/run/\$cluster-\$name.asok
log file = $DIR/log/\$name.log
crash dir = $DIR/crash
# one OSD: replicas = 1, few PGs, no autoscaler (there is no mgr)
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon data avail warn = 2
mon data avail crit = 1
# commit mon (paxos) updates at once instead of batching them for 1 s: radosgw
# creates ~7 pools at two map updates each, this takes start-up from 13 s to 2 s
paxos propose interval = 0.01
paxos min wait = 0.001

[mon]
mon data = $DIR/mon/\$cluster-\$id

[osd]
osd data = $DIR/osd/\$cluster-\$id
osd objectstore = $STORE
# memstore: reported capacity only; RAM is used as objects are written
memstore device bytes = 8589934592
bluestore block path = $DIR/osd/\$cluster-\$id.block
bluestore block create = true
bluestore block size = 21474836480
osd memory target = 939524096
osd crush update on start = true

[client.rgw.a]
rgw data = $DIR/rgw
# tcp_nodelay: without it every response with a body waits ~40 ms (Nagle)
rgw frontends = beast endpoint=127.0.0.1:$PORT tcp_nodelay=1
rgw dns name = 127.0.0.1
rgw enable usage log = false
rgw thread pool size = 64
# deleted/aborted multipart data is freed by the garbage collector; its default
# 2 h wait would keep it (in RAM, with memstore) for the whole test run
rgw gc obj min wait = 10
rgw gc processor period = 10
rgw gc processor max time = 10
EOF
}

create_bucket() { # PUT /bucket, SigV4-signed by curl (>= 7.75)
  local code
  code=$(curl -s -o "$DIR/log/create-bucket.out" -w '%{http_code}' -X PUT \
    --aws-sigv4 "aws:amz:us-east-1:s3" --user "$ACCESS_KEY:$SECRET_KEY" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$ENDPOINT/$1")
  [ "$code" = 200 ] || die "create bucket $1: HTTP $code $(cat "$DIR/log/create-bucket.out")"
}

start_all() {
  # A running cluster keeps the endpoint it was started on, whatever port this call asks for.
  [ -f "$DIR/env" ] && ENDPOINT=$(sed -n 's/^S3_ENDPOINT=\([^ ]*\).*/\1/p' "$DIR/env")
  if pid_alive "$DIR/run/rgw.pid" && s3_up; then
    log "already running ($DIR)"
    envline
    return 0
  fi
  install_pkgs
  local t0 i fsid osd_uuid deadline
  t0=$(date +%s.%N)
  stop_all
  # a failed start leaves nothing running (logs stay in $DIR/log)
  trap 'rc=$?; [ $rc = 0 ] || { log "start failed, stopping what was started"; stop_all KILL; }; exit $rc' EXIT
  for i in "$PORT" "$MON_PORT" "$MON_PORT1"; do
    port_busy "$i" && die "127.0.0.1:$i is already in use (another cluster? try: $0 stop, or set S3_ENGINE_PORT/S3_ENGINE_MON_PORT)"
  done
  ENDPOINT="http://127.0.0.1:${PORT}"
  rm -rf "$DIR"
  mkdir -p "$DIR"/{run,log,mon,osd,rgw,crash}
  fsid=$(cat /proc/sys/kernel/random/uuid)
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  write_conf "$fsid"

  log "mon.a: mkfs + start"
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$MON_PORT,v1:127.0.0.1:$MON_PORT1]" "$DIR/monmap" >/dev/null
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap"
  spawn mon.a ceph-mon -c "$CONF" -f -i a

  log "osd.0: mkfs + start ($STORE)"
  ceph_ osd new "$osd_uuid" 0 >/dev/null || die "mon did not answer, see $DIR/log/mon.a.log"
  mkdir -p "$DIR/osd/ceph-0"
  ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$osd_uuid" >>"$DIR/log/osd-mkfs.out" 2>&1 ||
    die "osd mkfs failed, see $DIR/log/osd-mkfs.out"
  spawn osd.0 ceph-osd -c "$CONF" -f -i 0
  deadline=$((SECONDS + 60))
  while ((SECONDS < deadline)); do
    ceph_ osd dump 2>/dev/null | grep -q '^osd.0 up' && break
    pid_alive "$DIR/run/osd.0.pid" || die "osd.0 exited, see $DIR/log/osd.0.log"
    sleep 0.2
  done
  ceph_ osd dump | grep -q '^osd.0 up' || die "osd.0 did not come up, see $DIR/log/osd.0.log"

  log "rgw: start on $ENDPOINT"
  spawn rgw radosgw -c "$CONF" -f -n client.rgw.a
  deadline=$((SECONDS + 60))
  while ((SECONDS < deadline)); do
    s3_up && break
    pid_alive "$DIR/run/rgw.pid" || die "radosgw exited, see $DIR/log/client.rgw.a.log"
    sleep 0.1
  done
  s3_up || die "radosgw did not answer on $ENDPOINT, see $DIR/log/client.rgw.a.log"

  log "rgw: user s3test"
  radosgw-admin -c "$CONF" -n client.rgw.a --admin-socket= user create --uid=s3test \
    --display-name="s3 test" --access-key="$ACCESS_KEY" --secret="$SECRET_KEY" >/dev/null
  [ -z "$BUCKET" ] || { log "bucket $BUCKET"; create_bucket "$BUCKET"; }
  envline fresh >"$DIR/env"
  trap - EXIT
  log "ready in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
  envline
}

# one start/stop at a time (e.g. parallel test workers calling `start`);
# fd 9 is closed in the daemons (spawn), so they do not hold the lock
lock() {
  mkdir -p "$(dirname "$DIR")"
  exec 9>"$DIR.lock"
  flock -w 120 9 || die "could not lock $DIR.lock"
}

case "${1:-start}" in
  start) lock; start_all ;;
  stop) lock; stop_all TERM ;;
  kill) lock; stop_all KILL ;;
  status)
    [ -f "$DIR/env" ] && ENDPOINT=$(sed -n 's/^S3_ENDPOINT=\([^ ]*\).*/\1/p' "$DIR/env")
    pid_alive "$DIR/run/rgw.pid" && s3_up ;;
  env) envline ;;
  run)
    # run [--] CMD...: one engine for every test file CMD runs (they find it running and leave it running),
    # stopped afterwards; without the Ceph binaries CMD runs alone and the S3 tests skip, saying why.
    shift; [ "${1:-}" = -- ] && shift
    if ! command -v radosgw >/dev/null 2>&1; then
      log "Ceph binaries missing: running without the S3 engine (its tests skip)"
      exec "$@"
    fi
    if bash "$0" status; then
      log "already running: CMD joins it, and it is left running for whoever started it"
      exec "$@"
    fi
    if ! bash "$0" start >/dev/null; then
      # The other tests still run; the S3 tests try to start it themselves and fail, saying why.
      log "the S3 engine did not start (see above): running CMD without it"
      exec "$@"
    fi
    rc=0; "$@" || rc=$?
    bash "$0" stop
    exit "$rc" ;;
  *) echo "usage: $0 [start|stop|kill|status|env|run -- CMD...]" >&2; exit 2 ;;
esac
