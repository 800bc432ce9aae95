# Shared by stack.sh, services.sh and nginx.sh: is a process (or a pidfile's process) alive?
# Alive = the process exists and is not a zombie: a killed process stays in the table until its parent
# (often PID 1, which reaps late) collects it, and `kill -0` succeeds on it meanwhile.
running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}
pid_alive() { [ -s "$1" ] && running "$(cat "$1")"; }
