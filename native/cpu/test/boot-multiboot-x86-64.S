/* Bare-metal entry for the emulator tests: GRUB (multiboot 1) enters in 32-bit protected mode; this switches to
 * long mode with the first 1 GiB identity-mapped in 2 MiB pages, enables SSE, AVX and AVX-512 state (CR4,
 * XCR0), calls test_main(), then asks Bochs to power off (port 0x8900). Built by toolchain/test-emulated.sh. */
        .set MB_MAGIC, 0x1BADB002
        .set MB_FLAGS, 0x00000003
        .section .multiboot, "a"
        .align 4
        .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

        .section .bss
        .align 4096
pml4:   .skip 4096
pdpt:   .skip 4096
pd:     .skip 4096
        .align 64
stack:  .skip 1 << 20
stack_top:

        .section .text
        .code32
        .globl _start
_start:
        cli
        mov $stack_top, %esp
        mov $pdpt, %eax
        or $3, %eax
        mov %eax, pml4
        mov $pd, %eax
        or $3, %eax
        mov %eax, pdpt
        xor %ecx, %ecx
1:      mov %ecx, %eax
        shl $21, %eax
        or $0x83, %eax
        mov %eax, pd(,%ecx,8)
        inc %ecx
        cmp $512, %ecx
        jne 1b
        mov $pml4, %eax
        mov %eax, %cr3
        mov %cr4, %eax
        or $(1 << 5), %eax
        mov %eax, %cr4
        mov $0xC0000080, %ecx
        rdmsr
        or $(1 << 8), %eax
        wrmsr
        mov %cr0, %eax
        or $0x80000001, %eax
        mov %eax, %cr0
        lgdt gdt_ptr
        ljmp $0x08, $long_mode

        .code64
long_mode:
        mov $0x10, %ax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %ss
        mov $stack_top, %rsp
        mov %cr0, %rax
        and $~(1 << 2), %rax
        or $(1 << 1), %rax
        mov %rax, %cr0
        mov %cr4, %rax
        or $((1 << 9) | (1 << 10) | (1 << 18)), %rax
        mov %rax, %cr4
        xor %ecx, %ecx
        xor %edx, %edx
        mov $0xE7, %eax
        xsetbv
        call test_main
        /* Bochs powers off on "Shutdown" written to port 0x8900 */
        lea shutdown(%rip), %rsi
        mov $0x8900, %dx
2:      lodsb
        test %al, %al
        jz 3f
        outb %al, %dx
        jmp 2b
3:      cli
        hlt
        jmp 3b

        .section .rodata
shutdown: .asciz "Shutdown"
        .align 8
gdt:    .quad 0, 0x00AF9A000000FFFF, 0x00CF92000000FFFF
gdt_ptr: .word gdt_ptr - gdt - 1
        .long gdt

        .section .note.GNU-stack, "", @progbits
