# Cross-compiling tinykws for a Debian multiarch target (scripts/cross.sh passes the target):
#   -DTINYKWS_CROSS_TRIPLE=aarch64-linux-gnu | arm-linux-gnueabihf
#   -DTINYKWS_CROSS_PROCESSOR=aarch64 | armv7l
#   -DTINYKWS_CROSS_EMULATOR=<program that runs a target binary>  (qemu-user, for CTest)
# Target libraries come from `apt-get install <pkg>:<arch>` (beside the host's in
# /usr/lib/<triple>); headers of arch-independent packages from /usr/include.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${TINYKWS_CROSS_PROCESSOR})
set(CMAKE_C_COMPILER ${TINYKWS_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${TINYKWS_CROSS_TRIPLE}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${TINYKWS_CROSS_TRIPLE})
set(CMAKE_CROSSCOMPILING_EMULATOR ${TINYKWS_CROSS_EMULATOR})
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${TINYKWS_CROSS_TRIPLE}/pkgconfig:/usr/share/pkgconfig")
# Find target libraries and packages only for the target, programs only on the host.
set(CMAKE_FIND_ROOT_PATH /usr/lib/${TINYKWS_CROSS_TRIPLE} /usr/${TINYKWS_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# The toolchain file is read again for try_compile projects: keep the settings there.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES TINYKWS_CROSS_TRIPLE TINYKWS_CROSS_PROCESSOR
     TINYKWS_CROSS_EMULATOR)
