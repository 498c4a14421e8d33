# Sourced by the toolchain launchers: repository root, a JDK >= 25, Maven settings, JVM flags.
TESSERA_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$TESSERA_ROOT/toolchain/jdk.sh"
# Maven 3.8's bundled Guava calls sun.misc.Unsafe, which JDK 25 warns about on every run.
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
# The JVM flags every Tessera app needs (the README shows them for your own app).
TESSERA_JVM_FLAGS=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED)

tessera_mvn() {
  command -v mvn >/dev/null || { echo "tessera: mvn not found: apt-get install -y maven" >&2; exit 1; }
  (cd "$TESSERA_ROOT" && mvn -B -ntp "$@")
}

# Builds the jars (no tests) when any source is newer than the last build.
tessera_build_if_needed() {
  local stamp="$TESSERA_ROOT/java-api/target/.tessera-built"
  if [ -f "$stamp" ] && [ -f "$TESSERA_ROOT/java-api/target/classpath.txt" ] && [ -z "$(cd "$TESSERA_ROOT" && find pom.xml kernels java-api bench native toolchain \
        -path '*/target' -prune -o -type f -newer "$stamp" -print -quit)" ]; then
    return 0
  fi
  echo "tessera: building (mvn package, tests skipped)..." >&2
  tessera_mvn -q package -DskipTests
  touch "$stamp"
}

# Splits "$@" into JVM system properties (-D...) and program arguments.
tessera_split_args() {
  TESSERA_JVM_PROPS=(); TESSERA_ARGS=()
  for arg in "$@"; do
    case "$arg" in -D*) TESSERA_JVM_PROPS+=("$arg") ;; *) TESSERA_ARGS+=("$arg") ;; esac
  done
}
