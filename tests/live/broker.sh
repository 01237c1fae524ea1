# Sourced by tests/live/run.sh and tests/perf/live_bench.sh: install Debian's mosquitto when
# missing and start it on a free loopback port, as its own process with a pid file in $WORK.
# Needs WORK and a `skip REASON` function from the caller; sets PORT and PID. The caller stops
# the broker by its pid (`stop_broker`, e.g. from an EXIT trap).
start_broker() {
  if ! command -v mosquitto >/dev/null; then
    command -v apt-get >/dev/null || skip "no mosquitto and no apt-get to install it"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto) >"$WORK/apt.log" 2>&1 \
      || skip "cannot install mosquitto ($(tail -1 "$WORK/apt.log"))"
  fi
  local mosquitto
  mosquitto=$(command -v mosquitto || echo /usr/sbin/mosquitto)
  [ -x "$mosquitto" ] || skip "mosquitto is not executable"
  # A free loopback port: ask the kernel for one.
  PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  printf '%s\n' \
    "per_listener_settings false" \
    "listener $PORT 127.0.0.1" \
    "allow_anonymous true" \
    "persistence false" \
    "max_keepalive 65535" \
    "set_tcp_nodelay true" \
    "max_connections -1" \
    "sys_interval 1" \
    "user root" \
    "pid_file $WORK/mosquitto.pid" \
    "log_dest file $WORK/mosquitto.log" \
    "connection_messages false" >"$WORK/mosquitto.conf"
  # A socket per virtual client: the broker inherits this shell's open-file limit.
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true
  "$mosquitto" -c "$WORK/mosquitto.conf" -d 2>"$WORK/start.err" || skip "mosquitto does not start: $(cat "$WORK/start.err")"
  for _ in $(seq 1 50); do [ -s "$WORK/mosquitto.pid" ] && break; sleep 0.1; done
  [ -s "$WORK/mosquitto.pid" ] || skip "mosquitto wrote no pid file"
  PID=$(cat "$WORK/mosquitto.pid")
  for _ in $(seq 1 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    sleep 0.1
  done
}

stop_broker() {
  if [ -n "${PID:-}" ] && kill -0 "$PID" 2>/dev/null; then
    kill "$PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  fi
}
