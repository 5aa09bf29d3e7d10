from email_engine.cli import main

main()
