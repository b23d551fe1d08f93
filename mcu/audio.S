/* The audio the firmware runs on (raw signed 16-bit little-endian mono PCM at the model's
 * rate), included byte for byte from TINYKWS_MCU_AUDIO_FILE. */
  .section .audio, "a"
  .balign 4
  .global tinykws_mcu_audio
tinykws_mcu_audio:
  .incbin TINYKWS_MCU_AUDIO_FILE
  .global tinykws_mcu_audio_end
tinykws_mcu_audio_end:
