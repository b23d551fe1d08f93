/* Start-up of the firmware in mcu/ on a Cortex-M4F (MPS2 AN386 under qemu-system-arm): the
 * vector table, the FPU switched on, .data copied from flash, .bss zeroed, newlib's semihosting
 * stdio (librdimon: printf goes to the host's stdout), C++ constructors, main(), exit(). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

extern uint32_t __stack_top, __data_load, __data_start, __data_end, __bss_start, __bss_end;
extern void __libc_init_array(void);
extern void initialise_monitor_handles(void);
int main(void);

/* What the crt files that are not linked (-nostartfiles) would define: the hooks
 * __libc_init_array calls, and the handle C++ static destructors are registered under. */
void _init(void) {}
void _fini(void) {}
void* __dso_handle = &__dso_handle;

void tinykws_reset(void) {
  /* CP10 and CP11 (the FPU) full access, before any floating-point instruction. */
  *(volatile uint32_t*)0xE000ED88u |= 0xFu << 20;
  __asm volatile("dsb\n\tisb" ::: "memory");
  const uint32_t* src = &__data_load;
  for (uint32_t* p = &__data_start; p < &__data_end;) *p++ = *src++;
  for (uint32_t* p = &__bss_start; p < &__bss_end;) *p++ = 0;
  initialise_monitor_handles();
  __libc_init_array();
  exit(main());
}

static void tinykws_fault(void) {
  fputs("tinykws-mcu: processor fault\n", stdout);
  exit(3);
}

/* The handler of the board's timer 0 interrupt (IRQ 8): the demo's sampling profiler defines
 * it (kws_demo.cpp, TINYKWS_MCU_PROFILE); without it the interrupt is never enabled. */
void tinykws_timer0_irq(void) __attribute__((weak, alias("tinykws_fault")));

typedef void (*vector_fn)(void);
__attribute__((section(".isr_vector"), used)) static const vector_fn vectors[16 + 9] = {
    (vector_fn)(uintptr_t)&__stack_top, /* initial stack pointer */
    tinykws_reset,
    tinykws_fault, /* NMI */
    tinykws_fault, /* HardFault */
    tinykws_fault, /* MemManage */
    tinykws_fault, /* BusFault */
    tinykws_fault, /* UsageFault */
    0,
    0,
    0,
    0,
    tinykws_fault, /* SVCall */
    tinykws_fault, /* DebugMonitor */
    0,
    tinykws_fault, /* PendSV */
    tinykws_fault, /* SysTick */
    /* IRQ 0-7: the UARTs and GPIOs of the MPS2 board, unused; IRQ 8: timer 0. */
    tinykws_fault,
    tinykws_fault,
    tinykws_fault,
    tinykws_fault,
    tinykws_fault,
    tinykws_fault,
    tinykws_fault,
    tinykws_fault,
    tinykws_timer0_irq,
};
