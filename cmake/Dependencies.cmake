# Every dependency comes from Debian 12's packages (scripts/setup.sh installs them).
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(FFMPEG REQUIRED IMPORTED_TARGET libavformat libavcodec libswresample libavutil)
pkg_check_modules(MYSOFA REQUIRED IMPORTED_TARGET libmysofa)
pkg_check_modules(FFTW3F REQUIRED IMPORTED_TARGET fftw3f)
# libqm-dsp (beat and bar tracking) ships no pkg-config file: its library and headers by hand.
find_library(QM_DSP_LIBRARY qm-dsp REQUIRED)
find_path(QM_DSP_INCLUDE_DIR qm-dsp/dsp/tempotracking/TempoTrackV2.h REQUIRED)
add_library(QmDsp::QmDsp UNKNOWN IMPORTED)
# Its own headers include each other as "dsp/...", "maths/...": the qm-dsp folder is on the path.
set_target_properties(QmDsp::QmDsp PROPERTIES IMPORTED_LOCATION "${QM_DSP_LIBRARY}"
                      INTERFACE_INCLUDE_DIRECTORIES "${QM_DSP_INCLUDE_DIR};${QM_DSP_INCLUDE_DIR}/qm-dsp")
# Header-only linear algebra for the binaural design's least-squares fits.
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
find_package(nlohmann_json 3 REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 CONFIG QUIET)
if(NOT CLI11_FOUND)
  # Debian's libcli11-dev ships the header only; wrap it in a target of the same name.
  find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
  add_library(CLI11::CLI11 INTERFACE IMPORTED)
  target_include_directories(CLI11::CLI11 INTERFACE ${CLI11_INCLUDE_DIR})
endif()
if(SY_BUILD_TESTS)
  find_package(GTest REQUIRED)
  # The reference the tests hold the engine's loudness and true-peak meters to.
  pkg_check_modules(EBUR128 REQUIRED IMPORTED_TARGET libebur128)
endif()
if(SY_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
