from ledgerbot.cli import main

main()
