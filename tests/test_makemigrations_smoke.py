"""The main job end to end: an added column becomes exactly one new revision, then no changes."""

USERNAME = "username = db.Column(db.String(80), unique=True, nullable=False)"


def test_no_changes_on_the_example(project):
    result = project.invoke("makemigrations", "--message", "nothing")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "No changes detected"


def test_added_column_gives_one_revision_then_no_changes(project):
    before = project.revision_files()
    project.add_model_line(USERNAME, "email = db.Column(db.String(120))")

    result = project.invoke("makemigrations", "-m", "add email")

    assert result.returncode == 0, result.stderr
    new = sorted(set(project.revision_files()) - set(before))
    assert len(new) == 1 and new[0].endswith("_add_email.py")
    assert "+ column user.email" in result.stdout
    assert "add_column(sa.Column('email'" in (project.versions / new[0]).read_text()

    again = project.invoke("makemigrations", "-m", "again")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "No changes detected"
    assert len(project.revision_files()) == len(before) + 1
