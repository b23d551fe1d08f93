# Bare-metal Cortex-M4F (Armv7E-M, single-precision FPU) with Debian's gcc-arm-none-eabi and
# newlib (libnewlib-arm-none-eabi, libstdc++-arm-none-eabi-newlib): the build of mcu/ that
# scripts/mcu.sh runs under qemu-system-arm -M mps2-an386.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR cortex-m4)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
# No OS to link a test program against while CMake probes the compiler.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(_tkws_m4 "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16")
set(CMAKE_C_FLAGS_INIT "${_tkws_m4} -ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT "${_tkws_m4} -ffunction-sections -fdata-sections")
set(CMAKE_ASM_FLAGS_INIT "${_tkws_m4}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${_tkws_m4} -Wl,--gc-sections")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
