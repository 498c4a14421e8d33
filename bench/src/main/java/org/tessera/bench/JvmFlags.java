package org.tessera.bench;

/** The flags every forked benchmark JVM needs (annotation constants for {@code @Fork(jvmArgsAppend)}). */
final class JvmFlags {
    static final String VECTOR = "--add-modules=jdk.incubator.vector";
    static final String NATIVE = "--enable-native-access=ALL-UNNAMED";

    private JvmFlags() {}
}
