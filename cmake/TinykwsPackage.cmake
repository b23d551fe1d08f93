# The installable runtime: libtinykws.a and libtinykws.so (frontend/, format/, runtime/ built
# again as position-independent code with hidden symbols, so the shared library exports only the
# C API of runtime/tinykws.h), the C header, a CMake package (find_package(tinykws): targets
# tinykws::tinykws, shared, and tinykws::tinykws_static) and a pkg-config file (tinykws.pc).
#   cmake --install build --prefix /usr/local
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(_tk ${PROJECT_SOURCE_DIR}/src/tinykws)
file(GLOB _tinykws_lib_srcs CONFIGURE_DEPENDS ${_tk}/frontend/*.cpp ${_tk}/format/*.cpp
     ${_tk}/runtime/*.cpp)
add_library(tinykws_lib_objects OBJECT ${_tinykws_lib_srcs})
set_target_properties(tinykws_lib_objects PROPERTIES POSITION_INDEPENDENT_CODE ON
                      CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
target_include_directories(tinykws_lib_objects PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(tinykws_lib_objects PRIVATE PkgConfig::KISSFFT)
# As in runtime/CMakeLists.txt: the fast kernels may contract a * b + c into FMAs.
set_source_files_properties(${_tk}/runtime/ops_fast.cpp PROPERTIES COMPILE_OPTIONS
                            "-ffp-contract=fast")

foreach(_kind shared static)
  string(TOUPPER ${_kind} _KIND)
  add_library(tinykws_${_kind} ${_KIND} $<TARGET_OBJECTS:tinykws_lib_objects>)
  set_target_properties(tinykws_${_kind} PROPERTIES OUTPUT_NAME tinykws
                        ARCHIVE_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/lib
                        LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/lib)
  target_include_directories(tinykws_${_kind} INTERFACE
                             $<BUILD_INTERFACE:${_tk}/runtime>
                             $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
endforeach()
set_target_properties(tinykws_shared PROPERTIES VERSION ${PROJECT_VERSION}
                      SOVERSION ${PROJECT_VERSION_MAJOR} EXPORT_NAME tinykws)
set_target_properties(tinykws_static PROPERTIES EXPORT_NAME tinykws_static)
target_link_libraries(tinykws_shared PRIVATE PkgConfig::KISSFFT)
# A C program linking the static library also needs kissfft and the C++ runtime.
target_link_libraries(tinykws_static INTERFACE
                      $<BUILD_INTERFACE:PkgConfig::KISSFFT> $<INSTALL_INTERFACE:kissfft-float>
                      stdc++ m)

install(TARGETS tinykws_shared tinykws_static EXPORT tinykwsTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${_tk}/runtime/tinykws.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT tinykwsTargets NAMESPACE tinykws::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tinykws)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/tinykwsConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/tinykwsConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tinykws)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/tinykwsConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
# The .pc file finds the prefix from its own folder, so `cmake --install --prefix DIR` works.
file(RELATIVE_PATH TINYKWS_PC_TO_PREFIX /p/${CMAKE_INSTALL_LIBDIR}/pkgconfig /p)
configure_file(${PROJECT_SOURCE_DIR}/cmake/tinykws.pc.in ${PROJECT_BINARY_DIR}/tinykws.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/tinykwsConfig.cmake
              ${PROJECT_BINARY_DIR}/tinykwsConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tinykws)
install(FILES ${PROJECT_BINARY_DIR}/tinykws.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
