package org.tessera.kernels;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class StorageTest {
    @Test
    void allocationIsAlignedZeroedAndSized() {
        try (HostStorage s = HostStorage.allocate(1000)) {
            assertEquals(0, s.segment().address() % HostStorage.ALIGNMENT);
            assertEquals(1000, s.byteSize());
            for (long i = 0; i < 1000; i++) assertEquals(0, s.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, i));
        }
        try (HostStorage empty = HostStorage.allocate(0)) {
            assertEquals(0, empty.byteSize());
        }
    }

    @Test
    void closeIsIdempotentAndUseAfterCloseThrows() {
        HostStorage s = HostStorage.allocate(64);
        s.close();
        assertDoesNotThrow(s::close);
        assertFalse(s.isAlive());
        IllegalStateException e = assertThrows(IllegalStateException.class, s::acquire);
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> s.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
    }

    @Test
    void closeWhileInUseThrowsAndKeepsMemory() {
        HostStorage s = HostStorage.allocate(64);
        s.acquire();
        IllegalStateException e = assertThrows(IllegalStateException.class, s::close);
        assertTrue(e.getMessage().contains("still use"), e.getMessage());
        assertTrue(s.isAlive());
        s.release();
        s.close();
        assertFalse(s.isAlive());
    }

    @Test
    void acquireAllReleasesWhatItTookOnFailure() {
        HostStorage a = HostStorage.allocate(8), b = HostStorage.allocate(8);
        b.close();
        assertThrows(IllegalStateException.class, () -> Storage.acquireAll(a, null, b));
        assertDoesNotThrow(a::close, "a must have been released");
    }

    @Test
    void closingTheCallersArenaKillsTheStorage() {
        Arena arena = Arena.ofShared();
        HostStorage s = HostStorage.allocate(arena, 128);
        assertTrue(s.isAlive());
        arena.close();
        assertFalse(s.isAlive());
        IllegalStateException e = assertThrows(IllegalStateException.class, s::acquire);
        assertTrue(e.getMessage().contains("Arena"), e.getMessage());
        assertDoesNotThrow(s::close);
    }

    @Test
    void wrapRejectsHeapMemory() {
        assertThrows(IllegalArgumentException.class, () -> HostStorage.wrap(MemorySegment.ofArray(new float[4])));
    }
}
