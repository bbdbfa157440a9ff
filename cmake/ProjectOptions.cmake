# -Wnull-dereference is left out: GCC 12 reports false positives inside libstdc++ (streambuf, basic_string).
# Warnings and sanitizers come from INTERFACE targets that each of our targets links,
# so third-party code and global flags stay untouched.
add_library(sy_warnings INTERFACE)
add_library(sy::warnings ALIAS sy_warnings)
target_compile_options(sy_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
  $<$<BOOL:${SY_WARNINGS_AS_ERRORS}>:-Werror>
  # Clang 14 takes `double{f}`, the engine's explicit widening, for an implicit promotion;
  # GCC (the CI build with -Werror) keeps checking this one.
  $<$<CXX_COMPILER_ID:Clang>:-Wno-double-promotion>)

add_library(sy_sanitizers INTERFACE)
add_library(sy::sanitizers ALIAS sy_sanitizers)
if(SY_SANITIZE)
  set(sy_sanitize_flags -fsanitize=address,undefined -fno-sanitize-recover=undefined)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    # Clang 14 cannot emit -fsanitize=function's prologue data for coroutines (the
    # assembler fails with "Cannot represent a difference across sections").
    list(APPEND sy_sanitize_flags -fno-sanitize=function)
  endif()
  target_compile_options(sy_sanitizers INTERFACE ${sy_sanitize_flags} -fno-omit-frame-pointer)
  target_link_options(sy_sanitizers INTERFACE ${sy_sanitize_flags})
endif()
if(SY_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "SY_FUZZ needs clang (libFuzzer): configure with the asan preset")
  endif()
  # Coverage feedback for libFuzzer in every library; the fuzz executables add the
  # fuzzer's main (fuzz/CMakeLists.txt). Test binaries of the same tree run unchanged.
  target_compile_options(sy_sanitizers INTERFACE -fsanitize=fuzzer-no-link)
endif()

add_library(sy_project_options INTERFACE)
add_library(sy::options ALIAS sy_project_options)
target_link_libraries(sy_project_options INTERFACE sy_warnings sy_sanitizers)
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  # Boost 1.74's Asio only looks for co_await support in clang through libc++'s
  # <experimental/coroutine>; with libstdc++ it is there as <coroutine>, so say so. Its
  # awaitable.hpp also uses std::exchange without including <utility>, which GCC's headers
  # happen to pull in. Every translation unit sees the same Asio configuration.
  target_compile_definitions(sy_project_options INTERFACE BOOST_ASIO_HAS_CO_AWAIT=1)
  # Clang accepts target_clones only on a function's first declaration (the engine puts it
  # on definitions). The one clang build is the sanitizer tree, where the generic copy of
  # the engine's loops is enough.
  target_compile_definitions(sy_project_options INTERFACE SY_NO_TARGET_CLONES)
  target_compile_options(sy_project_options INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-include$<SEMICOLON>utility>)
endif()

# One of the project's layered libraries: sy_<name> with the alias sy::<name>, includes rooted
# at the source tree (#include "engine/renderer.h"), our warnings and sanitizers, and the
# PUBLIC/PRIVATE dependencies given after the name.
function(sy_layer name)
  add_library(sy::${name} ALIAS sy_${name})
  target_include_directories(sy_${name} PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>)
  target_link_libraries(sy_${name} ${ARGN})
  target_link_libraries(sy_${name} PRIVATE sy::options)
endfunction()
