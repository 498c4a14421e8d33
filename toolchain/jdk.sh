# Sourced by the toolchain scripts: exports JAVA_HOME pointing at a JDK >= 25.
# Order: $JAVA_HOME if it is new enough, else the newest JDK >= 25 under /usr/lib/jvm.
# The machine's default `java` may be older (17 here); Tessera needs 25 for the Vector API and FFM.

tessera_jdk_major() { # prints the feature version of the JDK at $1, or nothing
  local release="$1/release"
  [ -x "$1/bin/javac" ] && [ -f "$release" ] || return 0
  sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$release"
}

tessera_find_jdk() {
  local need=25 major candidate best="" best_major=0
  if [ -n "${JAVA_HOME:-}" ]; then
    major=$(tessera_jdk_major "$JAVA_HOME")
    if [ -n "$major" ] && [ "$major" -ge "$need" ]; then return 0; fi
    echo "tessera: JAVA_HOME=$JAVA_HOME is JDK ${major:-?}, not >= $need; looking under /usr/lib/jvm" >&2
  fi
  for candidate in /usr/lib/jvm/*; do
    major=$(tessera_jdk_major "$candidate")
    if [ -n "$major" ] && [ "$major" -ge "$need" ] && [ "$major" -gt "$best_major" ]; then
      best="$candidate"; best_major="$major"
    fi
  done
  if [ -z "$best" ]; then
    cat >&2 <<MSG
tessera: no JDK >= $need found (JAVA_HOME unset or too old, nothing suitable in /usr/lib/jvm).
  Fix: install one, e.g. 'apt-get install temurin-25-jdk' (Adoptium repository) or unpack
  https://adoptium.net's JDK 25 and run with JAVA_HOME=/path/to/jdk-25 $0
MSG
    return 1
  fi
  export JAVA_HOME="$best"
}

tessera_find_jdk || exit 1
export PATH="$JAVA_HOME/bin:$PATH"
